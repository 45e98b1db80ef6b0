using System.Net;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// The <c>|</c> filters. Which filters exist, and for which kind of operand, follows the reference engine: e.g.
/// <c>trim</c> only applies to strings (so <c>none|trim</c> is an error, as Hugging Face reports it), <c>int</c> on a
/// float floors it, <c>tojson</c> writes 1.0 as 1. EdgeLm extensions the reference lacks (a template using them fails
/// there): <c>round</c>, <c>count</c>, <c>escape</c>/<c>e</c>, and <c>d</c> as an alias of <c>default(...)</c>.
/// </summary>
internal sealed partial class Interpreter
{
    private Value ApplyFilter(Value operand, Node filterNode, Scope scope)
    {
        if (filterNode is Identifier id) return ApplySimpleFilter(operand, id.Name);
        if (filterNode is CallExpression { Callee: Identifier callee } call) return ApplyCallFilter(operand, callee.Name, call.Args, scope);
        if (filterNode is CallExpression c) throw new RenderFault($"Unknown filter: {c.Callee.GetType().Name}");
        throw new RenderFault($"Unknown filter: {filterNode.GetType().Name}");
    }

    /// <summary>A filter written without parentheses.</summary>
    private static Value ApplySimpleFilter(Value operand, string name)
    {
        if (name == "safe") return operand;
        if (name == "tojson") return new StringValue(ValueOps.ToJson(operand, new ValueOps.JsonOptions(), 0, undefinedAsNull: true));
        if (Extension(operand, name, []) is Value extended) return extended;

        switch (operand)
        {
            case ArrayValue array:
                switch (name)
                {
                    case "list": return operand;
                    case "first": return array.Items.Count > 0 ? array.Items[0] : UndefinedValue.Instance;
                    case "last": return array.Items.Count > 0 ? array.Items[^1] : UndefinedValue.Instance;
                    case "length": return NumberValue.Integer(array.Items.Count);
                    case "reverse": return new ArrayValue(Enumerable.Reverse(array.Items).ToList());
                    case "sort": return new ArrayValue(ValueOps.StableSort(array.Items, (a, b) => ValueOps.Compare(a, b, false)));
                    case "join": return new StringValue(string.Concat(array.Items.Select(ValueOps.JoinItem)));
                    case "string": return new StringValue(ValueOps.ToJson(operand, new ValueOps.JsonOptions(), 0, undefinedAsNull: false));
                    case "unique": return new ArrayValue(Unique(array.Items));
                    default: throw new RenderFault($"Unknown ArrayValue filter: {name}");
                }
            case StringValue s:
                switch (name)
                {
                    case "length": return NumberValue.Integer(s.Value.Length);
                    case "upper": return new StringValue(JsText.ToUpper(s.Value));
                    case "lower": return new StringValue(JsText.ToLower(s.Value));
                    case "title": return new StringValue(JsText.TitleCase(s.Value));
                    case "capitalize": return new StringValue(Builtins.Capitalize(s.Value));
                    case "trim": return new StringValue(JsText.Trim(s.Value));
                    case "indent": return new StringValue(Indent(s.Value, 4, first: false, blank: false));
                    case "join":
                    case "string": return operand;
                    case "int":
                    {
                        double v = JsText.ParseInt(s.Value);
                        return NumberValue.Integer(double.IsNaN(v) ? 0 : v);
                    }
                    case "float":
                    {
                        double v = JsText.ParseFloat(s.Value);
                        return NumberValue.Float(double.IsNaN(v) ? 0 : v);
                    }
                    default: throw new RenderFault($"Unknown StringValue filter: {name}");
                }
            case NumberValue n:
                switch (name)
                {
                    case "abs": return new NumberValue(Math.Abs(n.Value), n.IsInteger);
                    case "int": return NumberValue.Integer(Math.Floor(n.Value));
                    case "float": return NumberValue.Float(n.Value);
                    case "string": return new StringValue(ValueOps.Display(n));
                    default: throw new RenderFault($"Unknown NumericValue filter: {name}");
                }
            case ObjectValue o:
                switch (name)
                {
                    case "items": return Builtins.Items(o);
                    case "length": return NumberValue.Integer(o.Entries.Count);
                    default:
                        return Builtins.ObjectMethod(o, name) switch
                        {
                            FunctionValue fn => fn.Invoke([], new Scope()),
                            Value v => v,
                            null => throw new RenderFault($"Unknown ObjectValue filter: {name}"),
                        };
                }
            case BooleanValue b:
                switch (name)
                {
                    case "bool": return b;
                    case "int": return NumberValue.Integer(b.Value ? 1 : 0);
                    case "float": return NumberValue.Float(b.Value ? 1 : 0);
                    case "string": return new StringValue(b.Value ? "true" : "false");
                    default: throw new RenderFault($"Unknown BooleanValue filter: {name}");
                }
        }
        throw new RenderFault($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
    }

    /// <summary>A filter written with arguments: <c>x | name(...)</c>.</summary>
    private Value ApplyCallFilter(Value operand, string name, List<Node> argNodes, Scope scope)
    {
        switch (name)
        {
            case "tojson":
            {
                var (_, kw) = EvaluateArguments(argNodes, scope);
                var indent = kw.GetValueOrDefault("indent") ?? NullValue.Instance;
                if (indent is not (NumberValue { IsInteger: true } or NullValue)) throw new RenderFault("If set, indent must be a number");
                var ensureAscii = kw.GetValueOrDefault("ensure_ascii") ?? BooleanValue.False;
                if (ensureAscii is not BooleanValue ascii) throw new RenderFault("If set, ensure_ascii must be a boolean");
                var sortKeys = kw.GetValueOrDefault("sort_keys") ?? BooleanValue.False;
                if (sortKeys is not BooleanValue sort) throw new RenderFault("If set, sort_keys must be a boolean");
                var separators = kw.GetValueOrDefault("separators") ?? NullValue.Instance;
                string? itemSeparator = null, keySeparator = null;
                if (separators is ArrayValue pair)
                {
                    if (pair.Items.Count != 2 || pair.Items[0] is not StringValue item || pair.Items[1] is not StringValue key)
                        throw new RenderFault("separators must be a tuple of two strings");
                    itemSeparator = item.Value;
                    keySeparator = key.Value;
                }
                else if (separators is not NullValue)
                {
                    throw new RenderFault("If set, separators must be a tuple of two strings");
                }
                var options = new ValueOps.JsonOptions(indent is NumberValue n ? (int)n.Value : null, ascii.Value,
                    itemSeparator, keySeparator, sort.Value);
                return new StringValue(ValueOps.ToJson(operand, options, 0, undefinedAsNull: true));
            }
            case "join":
            {
                List<string> parts = operand switch
                {
                    StringValue s => JsText.CodePoints(s.Value),
                    ArrayValue a => a.Items.Select(ValueOps.JoinItem).ToList(),
                    _ => throw new RenderFault($"Cannot apply filter \"{name}\" to type: {operand.TypeName}"),
                };
                var (args, kw) = EvaluateArguments(argNodes, scope);
                var separator = Builtins.Argument(args, 0, kw, "separator") ?? StringValue.Empty;
                if (separator is not StringValue sep) throw new RenderFault("separator must be a string");
                return new StringValue(string.Join(sep.Value, parts));
            }
            case "int":
            case "float":
            {
                var (args, kw) = EvaluateArguments(argNodes, scope);
                bool isInt = name == "int";
                var defaultValue = Builtins.Argument(args, 0, kw, "default") ?? (isInt ? NumberValue.Integer(0) : NumberValue.Float(0));
                switch (operand)
                {
                    case StringValue s:
                    {
                        double v = isInt ? JsText.ParseInt(s.Value) : JsText.ParseFloat(s.Value);
                        return double.IsNaN(v) ? defaultValue : new NumberValue(v, isInt);
                    }
                    case NumberValue:
                        return operand;
                    case BooleanValue b:
                        return new NumberValue(b.Value ? 1 : 0, isInt);
                    default:
                        throw new RenderFault($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
                }
            }
            case "default":
            case "d":
            {
                var (args, kw) = EvaluateArguments(argNodes, scope);
                var defaultValue = args.Count > 0 ? args[0] : StringValue.Empty;
                var boolean = (args.Count > 1 ? args[1] : null) ?? kw.GetValueOrDefault("boolean") ?? BooleanValue.False;
                if (boolean is not BooleanValue useTruthiness) throw new RenderFault("`default` filter flag must be a boolean");
                return operand is UndefinedValue || (useTruthiness.Value && !operand.IsTruthy) ? defaultValue : operand;
            }
        }

        if (name is "count" or "round" or "escape" or "e")
        {
            var (args, _) = EvaluateArguments(argNodes, scope);
            if (Extension(operand, name, args) is Value extended) return extended;
        }

        switch (operand)
        {
            case ArrayValue array:
                switch (name)
                {
                    case "sort": return SortFilter(array, argNodes, scope);
                    case "selectattr":
                    case "rejectattr": return SelectAttr(array, name, argNodes, scope);
                    case "map": return MapFilter(array, argNodes, scope);
                }
                throw new RenderFault($"Unknown ArrayValue filter: {name}");
            case StringValue s:
                switch (name)
                {
                    case "indent":
                    {
                        var (args, kw) = EvaluateArguments(argNodes, scope);
                        var width = Builtins.Argument(args, 0, kw, "width") ?? NumberValue.Integer(4);
                        if (width is not NumberValue { IsInteger: true } w) throw new RenderFault("width must be a number");
                        var first = Builtins.Argument(args, 1, kw, "first") ?? BooleanValue.False;
                        var blank = Builtins.Argument(args, 2, kw, "blank") ?? BooleanValue.False;
                        return new StringValue(Indent(s.Value, (int)w.Value, ValueOps.RawTruthy(first), ValueOps.RawTruthy(blank)));
                    }
                    case "replace":
                    {
                        var (args, kw) = EvaluateArguments(argNodes, scope);
                        return Builtins.Replace(s.Value, [.. args, new ObjectValue(kw, isKeywordArguments: true)]);
                    }
                }
                throw new RenderFault($"Unknown StringValue filter: {name}");
            case ObjectValue o:
            {
                if (Builtins.ObjectMethod(o, name) is FunctionValue fn)
                {
                    var (args, kw) = EvaluateArguments(argNodes, scope);
                    if (kw.Count > 0) args.Add(new ObjectValue(kw, isKeywordArguments: true));
                    return fn.Invoke(args, scope);
                }
                throw new RenderFault($"Unknown ObjectValue filter: {name}");
            }
        }
        throw new RenderFault($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
    }

    /// <summary>Jinja's indent: every line but the first (unless <paramref name="first"/>) and the empty ones
    /// (unless <paramref name="blank"/>) gets <paramref name="width"/> spaces.</summary>
    private static string Indent(string text, int width, bool first, bool blank)
    {
        string pad = new(' ', Math.Max(0, width));
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if ((!first && i == 0) || (!blank && lines[i].Length == 0)) continue;
            lines[i] = pad + lines[i];
        }
        return string.Join("\n", lines);
    }

    private static List<Value> Unique(List<Value> items)
    {
        var output = new List<Value>();
        foreach (var item in items)
        {
            if (!output.Any(seen => ValueOps.StrictEquals(seen, item, nanEqualsNaN: true))) output.Add(item);
        }
        return output;
    }

    private Value SortFilter(ArrayValue array, List<Node> argNodes, Scope scope)
    {
        var (args, kw) = EvaluateArguments(argNodes, scope);
        var reverse = Builtins.Argument(args, 0, kw, "reverse") ?? BooleanValue.False;
        if (reverse is not BooleanValue rev) throw new RenderFault("reverse must be a boolean");
        var caseSensitive = Builtins.Argument(args, 1, kw, "case_sensitive") ?? BooleanValue.False;
        if (caseSensitive is not BooleanValue cs) throw new RenderFault("case_sensitive must be a boolean");
        var attribute = Builtins.Argument(args, 2, kw, "attribute") ?? NullValue.Instance;
        if (attribute is not (StringValue or NumberValue { IsInteger: true } or NullValue))
            throw new RenderFault("attribute must be a string, integer, or null");
        Value Key(Value item) => attribute switch
        {
            NullValue => item,
            StringValue path => AttributePath(item, path.Value),
            _ => AttributePath(item, ValueOps.Concat(attribute)),
        };
        return new ArrayValue(ValueOps.StableSort(array.Items, (a, b) =>
        {
            int c = ValueOps.Compare(Key(a), Key(b), cs.Value);
            return rev.Value ? -c : c;
        }));
    }

    /// <summary>A dotted path (<c>"a.b.0"</c>) through mappings and list indexes; undefined when missing.</summary>
    private static Value AttributePath(Value item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            switch (value)
            {
                case ObjectValue o:
                    value = o.Entries.GetValueOrDefault(part) ?? UndefinedValue.Instance;
                    break;
                case NamespaceValue ns:
                    value = ns.Entries.GetValueOrDefault(part) ?? UndefinedValue.Instance;
                    break;
                case ArrayValue a:
                {
                    double index = JsText.ParseInt(part);
                    if (double.IsNaN(index) || index < 0 || index >= a.Items.Count) return UndefinedValue.Instance;
                    value = a.Items[(int)index];
                    break;
                }
                default:
                    return UndefinedValue.Instance;
            }
        }
        return value;
    }

    /// <summary><c>selectattr(attr[, test[, value]])</c> / <c>rejectattr</c>: arguments must be string literals;
    /// an item whose attribute is missing is never selected.</summary>
    private Value SelectAttr(ArrayValue array, string name, List<Node> argNodes, Scope scope)
    {
        bool select = name == "selectattr";
        if (array.Items.Any(item => item is not (ObjectValue or NamespaceValue)))
            throw new RenderFault($"`{name}` can only be applied to array of objects");
        if (argNodes.Any(a => a is not StringLiteral)) throw new RenderFault($"arguments of `{name}` must be strings");
        var args = argNodes.Select(a => ((StringLiteral)a).Value).ToList();
        if (args.Count == 0) throw new RenderFault("Cannot read properties of undefined (reading 'value')");
        Builtins.Test test = (v, _) => v.IsTruthy;
        if (args.Count > 1)
        {
            if (!Builtins.TryGetTest(args[1], out var named)) throw new RenderFault($"Unknown test: {args[1]}");
            test = named;
        }
        Value? testArgument = args.Count > 2 ? new StringValue(args[2]) : null;
        var result = new List<Value>();
        foreach (var item in array.Items)
        {
            var entries = item is ObjectValue o ? o.Entries : ((NamespaceValue)item).Entries;
            bool passes = entries.TryGetValue(args[0], out var attribute) && test(attribute, testArgument);
            if (passes == select) result.Add(item);
        }
        return new ArrayValue(result);
    }

    /// <summary><c>map(attribute="a.b"[, default=x])</c>; other forms of map are not supported (nor by the reference).</summary>
    private Value MapFilter(ArrayValue array, List<Node> argNodes, Scope scope)
    {
        var (_, kw) = EvaluateArguments(argNodes, scope);
        if (!kw.TryGetValue("attribute", out var attribute))
            throw new RenderFault("`map` expressions without `attribute` set are not currently supported.");
        if (attribute is not StringValue path) throw new RenderFault("attribute must be a string");
        var defaultValue = kw.GetValueOrDefault("default");
        return new ArrayValue(array.Items.Select(item =>
        {
            if (item is not (ObjectValue or NamespaceValue)) throw new RenderFault("items in map must be an object");
            var value = AttributePath(item, path.Value);
            return value is UndefinedValue ? defaultValue ?? UndefinedValue.Instance : value;
        }).ToList());
    }

    /// <summary>
    /// EdgeLm extensions, for filters that Jinja has and the reference engine lacks (there they raise "Unknown ...
    /// filter"): <c>count</c> (= length), <c>round(precision=0)</c> (half away from zero, a float), <c>escape</c>/<c>e</c>
    /// (HTML escaping of a string). Null when the filter is not one of these or does not apply.
    /// </summary>
    private static Value? Extension(Value operand, string name, List<Value> args)
    {
        switch (name)
        {
            case "count" when operand is ArrayValue a: return NumberValue.Integer(a.Items.Count);
            case "count" when operand is StringValue s: return NumberValue.Integer(s.Value.Length);
            case "count" when operand is ObjectValue o: return NumberValue.Integer(o.Entries.Count);
            case "round" when operand is NumberValue n:
            {
                int digits = args.Count > 0 && args[0] is NumberValue { IsInteger: true } p ? (int)Math.Clamp(p.Value, 0, 15) : 0;
                return NumberValue.Float(Math.Round(n.Value, digits, MidpointRounding.AwayFromZero));
            }
            case "escape" or "e" when operand is StringValue s:
                return new StringValue(WebUtility.HtmlEncode(s.Value));
            default:
                return null;
        }
    }
}
