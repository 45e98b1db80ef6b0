using System.Text;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Evaluates a parsed template. Semantics follow the reference engine (@huggingface/jinja), which is what
/// Hugging Face serves chat templates with: Python-like truthiness, JavaScript-like equality and number printing,
/// loop-scoped <c>set</c>, dynamically scoped macros. Failures surface as <see cref="RenderFault"/> tagged with the
/// offset of the innermost node being evaluated.
/// </summary>
internal sealed partial class Interpreter(TimeProvider clock)
{
    private sealed class BreakSignal : Exception;

    private sealed class ContinueSignal : Exception;

    private readonly TimeProvider _clock = clock;

    /// <summary>Bounds on untrusted templates (they come inside model files): nesting depth of evaluation
    /// (recursive macros), and the number of loop iterations in one render.</summary>
    private const int MaxDepth = 500;
    private const long MaxIterations = 10_000_000;

    private int _depth;
    private long _iterations;

    public string Run(ProgramNode program, Scope globals)
    {
        try
        {
            return RenderBlock(program.Body, globals);
        }
        catch (BreakSignal)
        {
            throw new RenderFault("'break' outside a loop");
        }
        catch (ContinueSignal)
        {
            throw new RenderFault("'continue' outside a loop");
        }
    }

    /// <summary>Renders statements in order, concatenating each result's display text except none/undefined.</summary>
    private string RenderBlock(List<Node> statements, Scope scope)
    {
        var sb = new StringBuilder();
        foreach (var statement in statements)
        {
            var value = Evaluate(statement, scope);
            if (value is not (NullValue or UndefinedValue)) sb.Append(ValueOps.Display(value));
        }
        return sb.ToString();
    }

    public Value Evaluate(Node node, Scope scope)
    {
        if (++_depth > MaxDepth)
        {
            _depth--;
            throw new RenderFault($"Template nesting deeper than {MaxDepth} (runaway recursion?)");
        }
        try
        {
            return EvaluateCore(node, scope);
        }
        catch (RenderFault fault) when (fault.Position < 0)
        {
            fault.Position = node.Position;
            throw;
        }
        finally
        {
            _depth--;
        }
    }

    private Value EvaluateCore(Node node, Scope scope) => node switch
    {
        StringLiteral s => new StringValue(s.Value),
        IntegerLiteral i => NumberValue.Integer(i.Value),
        FloatLiteral f => NumberValue.Float(f.Value),
        ArrayLiteral a => new ArrayValue(a.Items.Select(x => Evaluate(x, scope)).ToList()),
        TupleLiteral t => new ArrayValue(t.Items.Select(x => Evaluate(x, scope)).ToList(), isTuple: true),
        ObjectLiteral o => EvaluateObjectLiteral(o, scope),
        Identifier id => scope.Lookup(id.Name),
        MemberExpression m => EvaluateMember(m, scope),
        CallExpression c => EvaluateCall(c, scope),
        BinaryExpression b => EvaluateBinary(b, scope),
        UnaryExpression u => EvaluateUnary(u, scope),
        FilterExpression f => ApplyFilter(Evaluate(f.Operand, scope), f.Filter, scope),
        TestExpression t => EvaluateTest(t, scope),
        SelectExpression s => Evaluate(s.Condition, scope).IsTruthy ? Evaluate(s.Value, scope) : UndefinedValue.Instance,
        Ternary t => Evaluate(t.Condition, scope).IsTruthy ? Evaluate(t.WhenTrue, scope) : Evaluate(t.WhenFalse, scope),
        ProgramNode p => new StringValue(RenderBlock(p.Body, scope)),
        CommentNode => NullValue.Instance,
        IfStatement i => new StringValue(RenderBlock(Evaluate(i.Test, scope).IsTruthy ? i.Body : i.Alternate, scope)),
        ForStatement f => EvaluateFor(f, scope),
        SetStatement s => EvaluateSet(s, scope),
        MacroStatement m => DefineMacro(m, scope),
        CallBlock c => EvaluateCallBlock(c, scope),
        FilterBlock f => ApplyFilter(new StringValue(RenderBlock(f.Body, scope)), f.Filter, scope),
        BreakStatement => throw new BreakSignal(),
        ContinueStatement => throw new ContinueSignal(),
        _ => throw new RenderFault($"Unknown node type: {node.GetType().Name}"),
    };

    private Value EvaluateObjectLiteral(ObjectLiteral o, Scope scope)
    {
        var entries = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in o.Entries)
        {
            var key = Evaluate(keyNode, scope);
            if (key is not StringValue s) throw new RenderFault($"Object keys must be strings: got {key.TypeName}");
            entries[s.Value] = Evaluate(valueNode, scope);
        }
        return new ObjectValue(entries);
    }

    // ---- member access and slicing

    private Value EvaluateMember(MemberExpression m, Scope scope)
    {
        var obj = Evaluate(m.Object, scope);
        Value property;
        if (m.Computed)
        {
            if (m.Property is SliceExpression slice) return EvaluateSlice(obj, slice, scope);
            property = Evaluate(m.Property, scope);
        }
        else if (m.Property is IntegerLiteral index)
        {
            property = NumberValue.Integer(index.Value);
        }
        else
        {
            property = new StringValue(((Identifier)m.Property).Name);
        }
        return GetMember(obj, property) ?? UndefinedValue.Instance;
    }

    /// <summary><c>obj.name</c> / <c>obj[key]</c>: own entries of mappings first, then the built-in methods of the
    /// value's kind; integer indexes on lists and strings (negative counts from the end). Null when missing.</summary>
    private Value? GetMember(Value obj, Value property)
    {
        switch (obj)
        {
            case ObjectValue or NamespaceValue:
            {
                if (property is not StringValue key) throw new RenderFault($"Cannot access property with non-string: got {property.TypeName}");
                var entries = obj is ObjectValue o ? o.Entries : ((NamespaceValue)obj).Entries;
                if (entries.TryGetValue(key.Value, out var v)) return v;
                return obj is ObjectValue ov ? Builtins.ObjectMethod(ov, key.Value) : null;
            }
            case ArrayValue or StringValue:
            {
                if (property is NumberValue { IsInteger: true } n)
                {
                    if (obj is StringValue s)
                    {
                        int i = RelativeIndex(n.Value, s.Value.Length);
                        return i < 0 ? null : new StringValue(s.Value[i].ToString());
                    }
                    var items = ((ArrayValue)obj).Items;
                    int j = RelativeIndex(n.Value, items.Count);
                    return j < 0 ? null : items[j];
                }
                if (property is StringValue name)
                {
                    return obj is StringValue sv ? Builtins.StringMethod(sv, name.Value) : Builtins.ArrayMethod((ArrayValue)obj, name.Value);
                }
                throw new RenderFault($"Cannot access property with non-string/non-number: got {property.TypeName}");
            }
            default:
                if (property is not StringValue) throw new RenderFault($"Cannot access property with non-string: got {property.TypeName}");
                return null;
        }
    }

    /// <summary>JavaScript's <c>Array.prototype.at</c> index: negative from the end; -1 when out of range.</summary>
    private static int RelativeIndex(double index, int length)
    {
        double i = index < 0 ? length + index : index;
        return i >= 0 && i < length ? (int)i : -1;
    }

    private Value EvaluateSlice(Value obj, SliceExpression slice, Scope scope)
    {
        if (obj is not (ArrayValue or StringValue)) throw new RenderFault("Slice object must be an array or string");
        double? Bound(Node? node, string what)
        {
            if (node is null) return null;
            var v = Evaluate(node, scope);
            return v switch
            {
                UndefinedValue => null,
                NumberValue { IsInteger: true } n => n.Value,
                _ => throw new RenderFault($"Slice {what} must be numeric or undefined"),
            };
        }
        double? start = Bound(slice.Start, "start"), stop = Bound(slice.Stop, "stop"), step = Bound(slice.Step, "step");
        if (obj is ArrayValue a) return new ArrayValue(ValueOps.Slice(a.Items, start, stop, step));
        return new StringValue(string.Concat(ValueOps.Slice(JsText.CodePoints(((StringValue)obj).Value), start, stop, step)));
    }

    // ---- calls

    /// <summary>Evaluates call arguments: positional ones first (with <c>*x</c> spliced in), then keyword ones
    /// (with <c>**x</c> merged); a repeated keyword is an error.</summary>
    private (List<Value> Positional, OrderedDictionary<string, Value> Keywords) EvaluateArguments(List<Node> args, Scope scope)
    {
        var positional = new List<Value>();
        var keywords = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            if (arg is SpreadArgument spread)
            {
                var v = Evaluate(spread.Argument, scope);
                if (v is not ArrayValue list) throw new RenderFault($"Cannot unpack non-iterable type: {v.TypeName}");
                positional.AddRange(list.Items);
            }
            else if (arg is not (KeywordArgument or KeywordSpreadArgument))
            {
                positional.Add(Evaluate(arg, scope));
            }
        }
        foreach (var arg in args)
        {
            if (arg is KeywordArgument kw)
            {
                AddKeyword(keywords, kw.Key, Evaluate(kw.Value, scope));
            }
            else if (arg is KeywordSpreadArgument ks)
            {
                var v = Evaluate(ks.Argument, scope);
                if (v is not ObjectValue map) throw new RenderFault($"Argument after ** must be a mapping, not {v.TypeName}");
                foreach (var (key, value) in map.Entries) AddKeyword(keywords, key, value);
            }
        }
        return (positional, keywords);
    }

    private static void AddKeyword(OrderedDictionary<string, Value> keywords, string key, Value value)
    {
        if (!keywords.TryAdd(key, value)) throw new RenderFault($"Got multiple values for keyword argument '{key}'");
    }

    private Value EvaluateCall(CallExpression c, Scope scope)
    {
        var (args, keywords) = EvaluateArguments(c.Args, scope);
        if (keywords.Count > 0) args.Add(new ObjectValue(keywords, isKeywordArguments: true));
        var callee = Evaluate(c.Callee, scope);
        if (callee is not FunctionValue fn) throw new RenderFault($"Cannot call something that is not a function: got {callee.TypeName}");
        return fn.Invoke(args, scope);
    }

    // ---- operators

    private Value EvaluateUnary(UnaryExpression u, Scope scope)
    {
        var arg = Evaluate(u.Argument, scope);
        if (u.Operator == "not") return BooleanValue.Of(!arg.IsTruthy);
        double sign = u.Operator == "-" ? -1 : 1;
        return arg switch
        {
            NumberValue n => new NumberValue(sign * n.Value, n.IsInteger),
            BooleanValue b => NumberValue.Integer(sign * (b.Value ? 1 : 0)),
            _ => throw new RenderFault($"Unknown operator \"{u.Operator}\" for {arg.TypeName}"),
        };
    }

    private Value EvaluateBinary(BinaryExpression b, Scope scope)
    {
        var left = Evaluate(b.Left, scope);
        string op = b.Operator;
        if (op == "and") return left.IsTruthy ? Evaluate(b.Right, scope) : left;
        if (op == "or") return left.IsTruthy ? left : Evaluate(b.Right, scope);

        var right = Evaluate(b.Right, scope);
        if (op == "==") return BooleanValue.Of(ValueOps.LooseEquals(left, right));
        if (op == "!=") return BooleanValue.Of(!ValueOps.LooseEquals(left, right));

        if (left is UndefinedValue || right is UndefinedValue)
        {
            if (right is UndefinedValue && op is "in" or "not in") return BooleanValue.Of(op == "not in");
            throw new RenderFault($"Cannot perform operation {op} on undefined values");
        }
        if (left is NullValue || right is NullValue) throw new RenderFault("Cannot perform operation on null values");
        if (op == "~") return new StringValue(ValueOps.Concat(left) + ValueOps.Concat(right));

        if (op == "**" && ValueOps.NumericLike(left) is double x && ValueOps.NumericLike(right) is double y)
        {
            if (x == 0 && y < 0) throw new RenderFault("0.0 cannot be raised to a negative power");
            double result = Math.Pow(x, y);
            if (!double.IsFinite(result)) throw new RenderFault("Exponentiation result is not a finite real number");
            bool isFloat = left is NumberValue { IsInteger: false } || right is NumberValue { IsInteger: false } || y < 0;
            return new NumberValue(result, !isFloat);
        }

        if (left is NumberValue ln && right is NumberValue rn)
        {
            double a = ln.Value, c = rn.Value;
            bool isFloat = !ln.IsInteger || !rn.IsInteger;
            switch (op)
            {
                case "+": return new NumberValue(a + c, !isFloat);
                case "-": return new NumberValue(a - c, !isFloat);
                case "*": return new NumberValue(a * c, !isFloat);
                case "/": return NumberValue.Float(a / c);
                case "//": return new NumberValue(Math.Floor(a / c), !isFloat);
                case "%": return new NumberValue(a % c, !isFloat); // JavaScript remainder: the sign follows the dividend
                case "<": return BooleanValue.Of(a < c);
                case ">": return BooleanValue.Of(a > c);
                case ">=": return BooleanValue.Of(a >= c);
                case "<=": return BooleanValue.Of(a <= c);
            }
        }
        else if (left is ArrayValue la && right is ArrayValue ra)
        {
            if (op == "+") return new ArrayValue([.. la.Items, .. ra.Items]);
        }
        else if (right is ArrayValue list)
        {
            bool member = list.Items.Any(item => ValueOps.StrictEquals(item, left));
            if (op == "in") return BooleanValue.Of(member);
            if (op == "not in") return BooleanValue.Of(!member);
        }

        if ((left is StringValue || right is StringValue) && op == "+")
            return new StringValue(ValueOps.Concat(left) + ValueOps.Concat(right));

        if (left is StringValue ls && right is StringValue rs)
        {
            if (op == "in") return BooleanValue.Of(rs.Value.Contains(ls.Value, StringComparison.Ordinal));
            if (op == "not in") return BooleanValue.Of(!rs.Value.Contains(ls.Value, StringComparison.Ordinal));
        }

        if (left is StringValue key && right is ObjectValue map)
        {
            if (op == "in") return BooleanValue.Of(map.Entries.ContainsKey(key.Value));
            if (op == "not in") return BooleanValue.Of(!map.Entries.ContainsKey(key.Value));
        }

        throw new RenderFault($"Unknown operator \"{op}\" between {left.TypeName} and {right.TypeName}");
    }

    private Value EvaluateTest(TestExpression t, Scope scope)
    {
        var operand = Evaluate(t.Operand, scope);
        if (!Builtins.TryGetTest(t.Test, out var test)) throw new RenderFault($"Unknown test: {t.Test}");
        bool result = test(operand, null);
        return BooleanValue.Of(t.Negate ? !result : result);
    }

    // ---- statements

    private Value EvaluateSet(SetStatement s, Scope scope)
    {
        var value = s.Value is not null ? Evaluate(s.Value, scope) : new StringValue(RenderBlock(s.Body, scope));
        switch (s.Target)
        {
            case Identifier id:
                scope.Set(id.Name, value);
                break;
            case TupleLiteral tuple:
            {
                if (value is not ArrayValue items) throw new RenderFault($"Cannot unpack non-iterable type in set: {value.TypeName}");
                if (items.Items.Count != tuple.Items.Count)
                    throw new RenderFault($"Too {(tuple.Items.Count > items.Items.Count ? "few" : "many")} items to unpack in set");
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not Identifier name)
                        throw new RenderFault($"Cannot unpack to non-identifier in set: {NodeTypeName(tuple.Items[i])}");
                    scope.Set(name.Name, items.Items[i]);
                }
                break;
            }
            case MemberExpression member:
            {
                var obj = Evaluate(member.Object, scope);
                if (obj is not NamespaceValue ns) throw new RenderFault("cannot assign attribute on non-namespace object");
                if (member.Property is not Identifier prop) throw new RenderFault("Cannot assign to member with non-identifier property");
                ns.Entries[prop.Name] = value;
                break;
            }
            default:
                throw new RenderFault($"Invalid LHS inside assignment expression: {NodeTypeName(s.Target)}");
        }
        return NullValue.Instance;
    }

    private static string NodeTypeName(Node node) => node switch
    {
        IntegerLiteral => "IntegerLiteral",
        FloatLiteral => "FloatLiteral",
        StringLiteral => "StringLiteral",
        _ => node.GetType().Name,
    };

    private Value EvaluateFor(ForStatement f, Scope scope)
    {
        var loopScope = new Scope(scope);
        Node? filter = null;
        Value iterable;
        if (f.Iterable is SelectExpression select)
        {
            iterable = Evaluate(select.Value, loopScope);
            filter = select.Condition;
        }
        else
        {
            iterable = Evaluate(f.Iterable, loopScope);
        }

        List<Value> source = iterable switch
        {
            ArrayValue a => a.Items,
            ObjectValue o => o.Entries.Keys.Select(k => (Value)new StringValue(k)).ToList(),
            _ => throw new RenderFault($"Expected iterable or object type in for loop: got {iterable.TypeName}"),
        };

        // Items surviving the inline `if` filter, each with the assignment of the loop variable(s).
        var items = new List<Value>();
        var assignments = new List<Action<Scope>>();
        foreach (var current in source.ToList())
        {
            Action<Scope> assign = BindLoopTarget(f.Target, current);
            if (filter is not null)
            {
                var itemScope = new Scope(loopScope);
                assign(itemScope);
                if (!Evaluate(filter, itemScope).IsTruthy) continue;
            }
            items.Add(current);
            assignments.Add(assign);
        }

        var sb = new StringBuilder();
        bool iterated = false;
        for (int i = 0; i < items.Count; i++)
        {
            if (++_iterations > MaxIterations) throw new RenderFault($"More than {MaxIterations} loop iterations in one render");
            var loop = new OrderedDictionary<string, Value>(StringComparer.Ordinal)
            {
                ["index"] = NumberValue.Integer(i + 1),
                ["index0"] = NumberValue.Integer(i),
                ["revindex"] = NumberValue.Integer(items.Count - i),
                ["revindex0"] = NumberValue.Integer(items.Count - i - 1),
                ["first"] = BooleanValue.Of(i == 0),
                ["last"] = BooleanValue.Of(i == items.Count - 1),
                ["length"] = NumberValue.Integer(items.Count),
                ["previtem"] = i > 0 ? items[i - 1] : UndefinedValue.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : UndefinedValue.Instance,
            };
            loopScope.Set("loop", new ObjectValue(loop));
            assignments[i](loopScope);
            try
            {
                sb.Append(RenderBlock(f.Body, loopScope));
            }
            catch (ContinueSignal)
            {
                continue;
            }
            catch (BreakSignal)
            {
                break;
            }
            // As in the reference, an iteration left by break/continue does not count for the else block.
            iterated = true;
        }
        if (!iterated) sb.Append(RenderBlock(f.Else, loopScope));
        return new StringValue(sb.ToString());
    }

    private static Action<Scope> BindLoopTarget(Node target, Value current)
    {
        if (target is Identifier id) return s => s.Set(id.Name, current);
        var tuple = (TupleLiteral)target;
        if (current is not ArrayValue { IsTuple: false } list) throw new RenderFault($"Cannot unpack non-iterable type: {current.TypeName}");
        if (list.Items.Count != tuple.Items.Count)
            throw new RenderFault($"Too {(tuple.Items.Count > list.Items.Count ? "few" : "many")} items to unpack");
        return s =>
        {
            for (int j = 0; j < tuple.Items.Count; j++)
            {
                if (tuple.Items[j] is not Identifier name) throw new RenderFault($"Cannot unpack non-identifier type: {NodeTypeName(tuple.Items[j])}");
                s.Set(name.Name, list.Items[j]);
            }
        };
    }

    // ---- macros

    private Value DefineMacro(MacroStatement m, Scope scope)
    {
        scope.Set(m.Name, new FunctionValue(m.Name, (args, callerScope) =>
        {
            var macroScope = new Scope(callerScope);
            BindMacroArguments($"'{m.Name}'", m.Parameters, m.UsesKwargs, m.UsesVarargs, args, macroScope);
            return new StringValue(RenderBlock(m.Body, macroScope));
        }));
        return NullValue.Instance;
    }

    private Value EvaluateCallBlock(CallBlock c, Scope scope)
    {
        var caller = new FunctionValue("caller", (args, _) =>
        {
            var callScope = new Scope(scope);
            BindMacroArguments("None", c.CallerParameters, c.UsesKwargs, c.UsesVarargs, args, callScope);
            return new StringValue(RenderBlock(c.Body, callScope));
        });
        var (args, keywords) = EvaluateArguments(c.Call.Args, scope);
        args.Add(new ObjectValue(keywords, isKeywordArguments: true));
        var callee = Evaluate(c.Call.Callee, scope);
        if (callee is not FunctionValue fn) throw new RenderFault($"Cannot call something that is not a function: got {callee.TypeName}");
        var withCaller = new Scope(scope);
        withCaller.Set("caller", caller);
        return fn.Invoke(args, withCaller);
    }

    /// <summary>Binds a macro's parameters: positional arguments in order, then keywords by name, then defaults
    /// (evaluated after every name is bound); extra arguments go to <c>kwargs</c>/<c>varargs</c> when the body
    /// uses them and are an error otherwise.</summary>
    private void BindMacroArguments(string displayName, List<Parameter> parameters, bool usesKwargs, bool usesVarargs,
        List<Value> args, Scope scope)
    {
        var positional = args.ToList();
        var keywords = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        if (positional.Count > 0 && positional[^1] is ObjectValue { IsKeywordArguments: true } kw)
        {
            foreach (var (k, v) in kw.Entries) keywords[k] = v;
            positional.RemoveAt(positional.Count - 1);
        }

        var pendingDefaults = new List<(string Name, Node Default)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            Value? value = i < positional.Count ? positional[i] : null;
            if (value is null && keywords.Remove(p.Name, out var byName)) value = byName;
            if (value is null && p.Default is not null) pendingDefaults.Add((p.Name, p.Default));
            scope.Set(p.Name, value ?? UndefinedValue.Instance);
        }

        if (usesKwargs) scope.Set("kwargs", new ObjectValue(keywords));
        else if (keywords.Count > 0) throw new RenderFault($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'");
        if (usesVarargs) scope.Set("varargs", new ArrayValue(positional.Skip(parameters.Count).ToList()));
        else if (positional.Count > parameters.Count)
            throw new RenderFault($"macro {displayName} takes not more than {parameters.Count} argument(s)");

        foreach (var (name, defaultNode) in pendingDefaults) scope.Set(name, Evaluate(defaultNode, scope));
    }
}
