using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Globals, the methods of strings, lists and mappings, and the <c>is</c> tests, as the reference engine provides
/// them. Notable reference behaviours kept on purpose: <c>strip</c>/<c>lstrip</c>/<c>rstrip</c> ignore their argument
/// and trim whitespace; <c>capitalize</c> and <c>title</c> only upper-case; <c>length</c> is a property, not a method.
/// </summary>
internal static class Builtins
{
    /// <summary>Longest list <c>range</c> may build (a template is untrusted input).</summary>
    private const int MaxRangeLength = 1_000_000;

    /// <summary>Creates the global scope: constants, <c>namespace</c>, <c>range</c>, <c>raise_exception</c>,
    /// <c>strftime_now</c> (reading <paramref name="clock"/>'s local time), and <c>dict</c> (an EdgeLm extension:
    /// the reference engine has no <c>dict</c>).</summary>
    public static Scope CreateGlobals(TimeProvider clock)
    {
        var scope = new Scope();
        scope.TryDeclare("namespace", new FunctionValue("namespace", (args, _) => Namespace(args)));
        scope.TryDeclare("false", BooleanValue.False);
        scope.TryDeclare("true", BooleanValue.True);
        scope.TryDeclare("none", NullValue.Instance);
        scope.TryDeclare("raise_exception", new FunctionValue("raise_exception", (args, _) =>
            throw new RenderFault(args.Count > 0 ? ValueOps.MessageText(args[0]) : "", raised: true)));
        scope.TryDeclare("range", new FunctionValue("range", (args, _) => Range(args)));
        scope.TryDeclare("strftime_now", new FunctionValue("strftime_now", (args, _) =>
        {
            if (args.Count == 0 || args[0] is not StringValue format) throw new RenderFault("strftime_now expects a format string");
            return new StringValue(Strftime(clock.GetLocalNow(), format.Value));
        }));
        scope.TryDeclare("True", BooleanValue.True);
        scope.TryDeclare("False", BooleanValue.False);
        scope.TryDeclare("None", NullValue.Instance);
        scope.TryDeclare("dict", new FunctionValue("dict", (args, _) => Dict(args)));
        return scope;
    }

    private static Value Namespace(List<Value> args)
    {
        var positional = args.ToList();
        ObjectValue? keywords = null;
        if (positional.Count > 0 && positional[^1] is ObjectValue { IsKeywordArguments: true } kw)
        {
            keywords = kw;
            positional.RemoveAt(positional.Count - 1);
        }
        if (positional.Count > 1) throw new RenderFault($"namespace expected at most 1 argument, got {positional.Count}");
        var entries = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        if (positional.Count == 1)
        {
            switch (positional[0])
            {
                case ObjectValue source:
                    foreach (var (k, v) in source.Entries) entries[k] = v;
                    break;
                case ArrayValue pairs:
                    foreach (var pair in pairs.Items)
                    {
                        List<Value>? kv = pair switch
                        {
                            ArrayValue a => a.Items,
                            StringValue s => JsText.CodePoints(s.Value).Select(c => (Value)new StringValue(c)).ToList(),
                            _ => null,
                        };
                        if (kv is null || kv.Count != 2) throw new RenderFault("namespace expected an object or an iterable of [key, value] pairs");
                        if (kv[0] is not StringValue key) throw new RenderFault("namespace keys must be strings");
                        entries[key.Value] = kv[1];
                    }
                    break;
                default:
                    throw new RenderFault($"'{positional[0].TypeName}' object is not iterable");
            }
        }
        if (keywords is not null)
        {
            foreach (var (k, v) in keywords.Entries) entries[k] = v;
        }
        return new NamespaceValue(entries);
    }

    /// <summary><c>dict(mapping?, **kwargs)</c> (Python's, not in the reference engine).</summary>
    private static Value Dict(List<Value> args)
    {
        var entries = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            if (arg is not ObjectValue map) throw new RenderFault($"dict() expects a mapping or keyword arguments, got {arg.TypeName}");
            foreach (var (k, v) in map.Entries) entries[k] = v;
        }
        return new ObjectValue(entries);
    }

    /// <summary><c>range(stop)</c>, <c>range(start, stop[, step])</c> over numbers.</summary>
    private static Value Range(List<Value> args)
    {
        if (args.Count is 0 or > 3 || args.Any(a => a is not NumberValue)) throw new RenderFault("range() expects 1 to 3 numbers");
        double[] n = args.Select(a => ((NumberValue)a).Value).ToArray();
        double start = n.Length == 1 ? 0 : n[0];
        double stop = n.Length == 1 ? n[0] : n[1];
        double step = n.Length == 3 ? n[2] : 1;
        if (step == 0) throw new RenderFault("range() step must not be zero");
        var items = new List<Value>();
        for (double i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= MaxRangeLength) throw new RenderFault($"range() longer than {MaxRangeLength} items");
            items.Add(new NumberValue(i, JsText.IsInteger(i)));
        }
        return new ArrayValue(items);
    }

    /// <summary>The reference's minimal strftime: <c>%Y %m %d %b %B %H %M %%</c> (English month names); any other
    /// directive is left as written.</summary>
    public static string Strftime(DateTimeOffset now, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] == '%' && i + 1 < format.Length)
            {
                string? part = format[i + 1] switch
                {
                    'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
                    'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
                    'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
                    'b' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(now.Month),
                    'B' => CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(now.Month),
                    'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
                    'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
                    '%' => "%",
                    _ => null,
                };
                if (part is not null)
                {
                    sb.Append(part);
                    i++;
                    continue;
                }
            }
            sb.Append(format[i]);
        }
        return sb.ToString();
    }

    // ---- methods

    private static FunctionValue Method(string name, Func<List<Value>, Value> body) => new(name, (args, _) => body(args));

    /// <summary>A string's built-in attribute, or null.</summary>
    public static Value? StringMethod(StringValue s, string name) => name switch
    {
        "upper" => Method(name, _ => new StringValue(JsText.ToUpper(s.Value))),
        "lower" => Method(name, _ => new StringValue(JsText.ToLower(s.Value))),
        "strip" => Method(name, _ => new StringValue(JsText.Trim(s.Value))),
        "lstrip" => Method(name, _ => new StringValue(JsText.TrimStart(s.Value))),
        "rstrip" => Method(name, _ => new StringValue(JsText.TrimEnd(s.Value))),
        "title" => Method(name, _ => new StringValue(JsText.TitleCase(s.Value))),
        "capitalize" => Method(name, _ => new StringValue(Capitalize(s.Value))),
        "length" => NumberValue.Integer(s.Value.Length),
        "startswith" => Method(name, args => BooleanValue.Of(AffixTest(s.Value, args, "startswith", (x, p) => x.StartsWith(p, StringComparison.Ordinal)))),
        "endswith" => Method(name, args => BooleanValue.Of(AffixTest(s.Value, args, "endswith", (x, p) => x.EndsWith(p, StringComparison.Ordinal)))),
        "split" => Method(name, args => Split(s.Value, args)),
        "replace" => Method(name, args => Replace(s.Value, args)),
        _ => null,
    };

    /// <summary>JavaScript <c>charAt(0).toUpperCase() + slice(1)</c>: the rest is left as it is.</summary>
    public static string Capitalize(string s) => s.Length == 0 ? s : JsText.ToUpper(s[..1]) + s[1..];

    private static bool AffixTest(string s, List<Value> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0) throw new RenderFault($"{name}() requires at least one argument");
        switch (args[0])
        {
            case StringValue p:
                return test(s, p.Value);
            case ArrayValue list:
                foreach (var item in list.Items)
                {
                    if (item is not StringValue p2) throw new RenderFault($"{name}() tuple elements must be strings");
                    if (test(s, p2.Value)) return true;
                }
                return false;
            default:
                throw new RenderFault($"{name}() argument must be a string or tuple of strings");
        }
    }

    /// <summary>Python's <c>str.split(sep=None, maxsplit=-1)</c> as the reference implements it.</summary>
    private static Value Split(string s, List<Value> args)
    {
        var sep = args.Count > 0 ? args[0] : NullValue.Instance;
        if (sep is not (StringValue or NullValue)) throw new RenderFault("sep argument must be a string or null");
        var maxsplitValue = args.Count > 1 ? args[1] : NumberValue.Integer(-1);
        if (maxsplitValue is not NumberValue { IsInteger: true } maxsplitNumber) throw new RenderFault("maxsplit argument must be a number");
        double maxsplit = maxsplitNumber.Value;

        var result = new List<string>();
        if (sep is NullValue)
        {
            string text = JsText.TrimStart(s);
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && JsText.IsWhitespace(text[i])) i++;
                if (i >= text.Length) break;
                int start = i;
                while (i < text.Length && !JsText.IsWhitespace(text[i])) i++;
                if (maxsplit != -1 && result.Count >= maxsplit)
                {
                    result.Add(text[start..]);
                    break;
                }
                result.Add(text[start..i]);
            }
        }
        else
        {
            string separator = ((StringValue)sep).Value;
            if (separator.Length == 0) throw new RenderFault("empty separator");
            result.AddRange(s.Split(separator));
            if (maxsplit != -1 && result.Count > maxsplit)
            {
                int keep = (int)Math.Max(0, maxsplit);
                string rest = string.Join(separator, result.Skip(keep));
                result.RemoveRange(keep, result.Count - keep);
                result.Add(rest);
            }
        }
        return new ArrayValue(result.Select(x => (Value)new StringValue(x)).ToList());
    }

    /// <summary><c>str.replace(old, new[, count])</c>; an empty <c>old</c> inserts between code points.</summary>
    public static Value Replace(string s, List<Value> args)
    {
        if (args.Count < 2) throw new RenderFault("replace() requires at least two arguments");
        if (args[0] is not StringValue oldValue || args[1] is not StringValue newValue) throw new RenderFault("replace() arguments must be strings");
        Value count = NullValue.Instance;
        if (args.Count > 2)
        {
            count = args[2] is ObjectValue { IsKeywordArguments: true } kw
                ? kw.Entries.GetValueOrDefault("count") ?? NullValue.Instance
                : args[2];
        }
        if (count is not (NumberValue { IsInteger: true } or NullValue)) throw new RenderFault("replace() count argument must be a number or null");
        double remaining = count is NumberValue n && n.Value >= 0 ? n.Value : double.PositiveInfinity;
        if (remaining == 0) return new StringValue(s);

        var sb = new StringBuilder();
        if (oldValue.Value.Length == 0)
        {
            foreach (var codePoint in JsText.CodePoints(s))
            {
                if (remaining > 0) { sb.Append(newValue.Value); remaining--; }
                sb.Append(codePoint);
            }
            if (remaining > 0) sb.Append(newValue.Value);
            return new StringValue(sb.ToString());
        }
        int pos = 0;
        while (remaining > 0)
        {
            int found = s.IndexOf(oldValue.Value, pos, StringComparison.Ordinal);
            if (found < 0) break;
            sb.Append(s, pos, found - pos).Append(newValue.Value);
            pos = found + oldValue.Value.Length;
            remaining--;
        }
        sb.Append(s, pos, s.Length - pos);
        return new StringValue(sb.ToString());
    }

    /// <summary>A list's built-in attribute (only <c>length</c>), or null.</summary>
    public static Value? ArrayMethod(ArrayValue a, string name) => name == "length" ? NumberValue.Integer(a.Items.Count) : null;

    /// <summary>A mapping's built-in method (<c>get keys values items dictsort</c>), or null.</summary>
    public static Value? ObjectMethod(ObjectValue o, string name) => name switch
    {
        "get" => Method(name, args =>
        {
            if (args.Count == 0) throw new RenderFault("Cannot read properties of undefined (reading 'type')");
            if (args[0] is not StringValue key) throw new RenderFault($"Object key must be a string: got {args[0].TypeName}");
            return o.Entries.TryGetValue(key.Value, out var v) ? v : args.Count > 1 ? args[1] : NullValue.Instance;
        }),
        "items" => Method(name, _ => Items(o)),
        "keys" => Method(name, _ => new ArrayValue(o.Entries.Keys.Select(k => (Value)new StringValue(k)).ToList())),
        "values" => Method(name, _ => new ArrayValue(o.Entries.Values.ToList())),
        "dictsort" => Method(name, args => DictSort(o, args)),
        _ => null,
    };

    /// <summary><c>[[key, value], ...]</c> (lists, not tuples, as in the reference).</summary>
    public static ArrayValue Items(ObjectValue o) =>
        new(o.Entries.Select(e => (Value)new ArrayValue([new StringValue(e.Key), e.Value])).ToList());

    private static Value DictSort(ObjectValue o, List<Value> args)
    {
        var keywords = new OrderedDictionary<string, Value>();
        var positional = new List<Value>();
        foreach (var arg in args)
        {
            if (arg is ObjectValue { IsKeywordArguments: true } kw) keywords = kw.Entries;
            else positional.Add(arg);
        }
        var caseSensitive = Argument(positional, 0, keywords, "case_sensitive") ?? BooleanValue.False;
        if (caseSensitive is not BooleanValue cs) throw new RenderFault("case_sensitive must be a boolean");
        var by = Argument(positional, 1, keywords, "by") ?? new StringValue("key");
        if (by is not StringValue bySv) throw new RenderFault("by must be a string");
        if (bySv.Value is not ("key" or "value")) throw new RenderFault("by must be either 'key' or 'value'");
        var reverse = Argument(positional, 2, keywords, "reverse") ?? BooleanValue.False;
        if (reverse is not BooleanValue rev) throw new RenderFault("reverse must be a boolean");

        int index = bySv.Value == "key" ? 0 : 1;
        var sorted = ValueOps.StableSort(Items(o).Items, (a, b) =>
        {
            int c = ValueOps.Compare(((ArrayValue)a).Items[index], ((ArrayValue)b).Items[index], cs.Value);
            return rev.Value ? -c : c;
        });
        return new ArrayValue(sorted);
    }

    /// <summary>Positional argument <paramref name="index"/>, else keyword <paramref name="name"/>, else null.</summary>
    public static Value? Argument(List<Value> positional, int index, OrderedDictionary<string, Value> keywords, string name) =>
        index < positional.Count ? positional[index] : keywords.GetValueOrDefault(name);

    // ---- tests

    public delegate bool Test(Value operand, Value? argument);

    private static readonly Dictionary<string, Test> Tests = new(StringComparer.Ordinal)
    {
        ["boolean"] = (v, _) => v is BooleanValue,
        ["callable"] = (v, _) => v is FunctionValue,
        ["odd"] = (v, _) => v is NumberValue { IsInteger: true } n ? n.Value % 2 != 0 : throw new RenderFault($"cannot odd on {v.TypeName}"),
        ["even"] = (v, _) => v is NumberValue { IsInteger: true } n ? n.Value % 2 == 0 : throw new RenderFault($"cannot even on {v.TypeName}"),
        ["false"] = (v, _) => v is BooleanValue { Value: false },
        ["true"] = (v, _) => v is BooleanValue { Value: true },
        ["none"] = (v, _) => v is NullValue,
        ["string"] = (v, _) => v is StringValue,
        ["number"] = (v, _) => v is NumberValue,
        ["integer"] = (v, _) => v is NumberValue { IsInteger: true },
        ["iterable"] = (v, _) => v is ArrayValue { IsTuple: false } or StringValue,
        ["mapping"] = (v, _) => v is ObjectValue,
        ["sequence"] = (v, _) => v is ArrayValue or ObjectValue or StringValue,
        ["lower"] = (v, _) => v is StringValue s && s.Value == JsText.ToLower(s.Value),
        ["upper"] = (v, _) => v is StringValue s && s.Value == JsText.ToUpper(s.Value),
        ["defined"] = (v, _) => v is not UndefinedValue,
        ["undefined"] = (v, _) => v is UndefinedValue,
        ["equalto"] = EqualTo,
        ["eq"] = EqualTo,
    };

    private static bool EqualTo(Value v, Value? other) =>
        other is null ? throw new RenderFault("Cannot read properties of undefined (reading 'value')") : ValueOps.StrictEquals(v, other);

    public static bool TryGetTest(string name, [NotNullWhen(true)] out Test? test) => Tests.TryGetValue(name, out test);
}
