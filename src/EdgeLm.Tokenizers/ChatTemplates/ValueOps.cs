using System.Text;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Conversions and comparisons between values, as the reference engine performs them. Two string forms exist there
/// and both matter: <see cref="Display"/> is what <c>{{ x }}</c> prints (floats keep ".0", lists print as JSON), while
/// <see cref="Concat"/> is the JavaScript string of the underlying value used by <c>~</c>, <c>+</c> and <c>join</c>
/// (floats lose ".0", lists join their items' display forms with commas, mappings print "[object Map]").
/// </summary>
internal static class ValueOps
{
    /// <summary>What a value prints as in output.</summary>
    public static string Display(Value v) => v switch
    {
        StringValue s => s.Value,
        NumberValue { IsInteger: true } n => JsText.NumberToString(n.Value),
        NumberValue n => FloatDisplay(n.Value),
        BooleanValue b => b.Value ? "true" : "false",
        NullValue => "null",
        UndefinedValue => "undefined",
        ArrayValue or ObjectValue or NamespaceValue => ToJson(v, new JsonOptions(), 0, undefinedAsNull: false),
        FunctionValue f => $"[function {f.Name}]",
        _ => throw new InvalidOperationException(v.TypeName),
    };

    private static string FloatDisplay(double d)
    {
        if (d == 0 && double.IsNegative(d)) return "-0.0";
        return d % 1 == 0 ? JsText.WholeToFixed1(d) : JsText.NumberToString(d);
    }

    /// <summary>JavaScript's <c>String(x.value)</c> for a value that is neither null nor undefined.</summary>
    public static string Concat(Value v) => v switch
    {
        StringValue s => s.Value,
        NumberValue n => JsText.NumberToString(n.Value),
        BooleanValue b => b.Value ? "true" : "false",
        ArrayValue a => string.Join(",", a.Items.Select(Display)),
        ObjectValue or NamespaceValue => "[object Map]",
        NullValue => "null",
        UndefinedValue => "undefined",
        FunctionValue f => $"[function {f.Name}]",
        _ => throw new InvalidOperationException(v.TypeName),
    };

    /// <summary>An item as JavaScript's <c>Array.prototype.join</c> writes it: null and undefined are empty.</summary>
    public static string JoinItem(Value v) => v is NullValue or UndefinedValue ? "" : Concat(v);

    /// <summary>JavaScript truthiness of the raw value (objects are always true), used where the reference tests
    /// <c>x.value</c> directly instead of asking for Python truthiness.</summary>
    public static bool RawTruthy(Value v) => v switch
    {
        ArrayValue or ObjectValue or NamespaceValue or FunctionValue => true,
        _ => v.IsTruthy,
    };

    /// <summary>Options of the <c>tojson</c> filter.</summary>
    public readonly record struct JsonOptions(int? Indent = null, bool EnsureAscii = false, string? ItemSeparator = null,
        string? KeySeparator = null, bool SortKeys = false);

    /// <summary>
    /// The reference's JSON writer (Python <c>json.dumps</c> spacing: <c>", "</c> and <c>": "</c>; with an indent,
    /// <c>","</c> between items and one item per line; empty containers stay <c>[]</c>/<c>{}</c>). Numbers print
    /// JavaScript's way, so 1.0 is written <c>1</c>. Tuples, keyword arguments and functions cannot be written.
    /// </summary>
    public static string ToJson(Value v, JsonOptions options, int depth, bool undefinedAsNull)
    {
        string itemSeparator, keySeparator;
        if (options.ItemSeparator is not null)
        {
            itemSeparator = options.ItemSeparator;
            keySeparator = options.KeySeparator!;
        }
        else if (options.Indent is > 0 or < 0)
        {
            itemSeparator = ",";
            keySeparator = ": ";
        }
        else
        {
            itemSeparator = ", ";
            keySeparator = ": ";
        }

        switch (v)
        {
            case NullValue:
                return "null";
            case UndefinedValue:
                return undefinedAsNull ? "null" : "undefined";
            case NumberValue n:
                return double.IsFinite(n.Value) ? JsText.NumberToString(n.Value) : "null";
            case BooleanValue b:
                return b.Value ? "true" : "false";
            case StringValue s:
            {
                string quoted = JsText.JsonQuote(s.Value);
                return options.EnsureAscii ? JsText.EscapeNonAscii(quoted) : quoted;
            }
            case ArrayValue { IsTuple: false }:
            case NamespaceValue:
            case ObjectValue { IsKeywordArguments: false }:
                break;
            default:
                throw new RenderFault($"Cannot convert to JSON: {v.TypeName}");
        }

        int indent = options.Indent ?? 0;
        if (indent < 0) throw new RenderFault($"Invalid count value: {indent}");
        bool pretty = indent != 0;
        string indentUnit = new(' ', indent);
        string basePadding = "\n" + string.Concat(Enumerable.Repeat(indentUnit, depth));
        string childPadding = basePadding + indentUnit;

        if (v is ArrayValue array)
        {
            var items = array.Items.Select(x => ToJson(x, options, depth + 1, undefinedAsNull)).ToList();
            return pretty && items.Count > 0
                ? "[" + childPadding + string.Join(itemSeparator + childPadding, items) + basePadding + "]"
                : "[" + string.Join(itemSeparator, items) + "]";
        }

        IEnumerable<KeyValuePair<string, Value>> entries = v is ObjectValue o ? o.Entries : ((NamespaceValue)v).Entries;
        if (options.SortKeys) entries = entries.OrderBy(e => e.Key, StringComparer.Ordinal);
        var parts = new List<string>();
        foreach (var (key, value) in entries)
        {
            string keyJson = JsText.JsonQuote(key);
            if (options.EnsureAscii) keyJson = JsText.EscapeNonAscii(keyJson);
            string part = keyJson + keySeparator + ToJson(value, options, depth + 1, undefinedAsNull);
            parts.Add(pretty ? childPadding + part : part);
        }
        return pretty && parts.Count > 0
            ? "{" + string.Join(itemSeparator, parts) + basePadding + "}"
            : "{" + string.Join(itemSeparator, parts) + "}";
    }

    /// <summary>The reference's <c>==</c>: JavaScript loose equality of the underlying values (so <c>1 == "1"</c>,
    /// <c>none == undefined</c>, and lists or mappings equal only themselves).</summary>
    public static bool LooseEquals(Value a, Value b)
    {
        while (true)
        {
            if (a is NullValue or UndefinedValue) return b is NullValue or UndefinedValue;
            if (b is NullValue or UndefinedValue) return false;
            if (IsReference(a) && IsReference(b)) return ReferenceEquals(Identity(a), Identity(b));
            switch (a, b)
            {
                case (NumberValue x, NumberValue y): return x.Value == y.Value;
                case (StringValue x, StringValue y): return x.Value == y.Value;
                case (BooleanValue x, BooleanValue y): return x.Value == y.Value;
                case (NumberValue x, StringValue y): return x.Value == JsText.StringToNumber(y.Value);
                case (StringValue x, NumberValue y): return JsText.StringToNumber(x.Value) == y.Value;
            }
            if (a is BooleanValue ab) { a = NumberValue.Integer(ab.Value ? 1 : 0); continue; }
            if (b is BooleanValue bb) { b = NumberValue.Integer(bb.Value ? 1 : 0); continue; }
            if (IsReference(a)) { a = new StringValue(Concat(a)); continue; }
            if (IsReference(b)) { b = new StringValue(Concat(b)); continue; }
            return false;
        }
    }

    /// <summary>JavaScript <c>===</c> of the underlying values (<c>in</c> on a list); with
    /// <paramref name="nanEqualsNaN"/> it is SameValueZero (<c>unique</c>).</summary>
    public static bool StrictEquals(Value a, Value b, bool nanEqualsNaN = false) => (a, b) switch
    {
        (NumberValue x, NumberValue y) => x.Value == y.Value || (nanEqualsNaN && double.IsNaN(x.Value) && double.IsNaN(y.Value)),
        (StringValue x, StringValue y) => x.Value == y.Value,
        (BooleanValue x, BooleanValue y) => x.Value == y.Value,
        (NullValue, NullValue) => true,
        (UndefinedValue, UndefinedValue) => true,
        _ => IsReference(a) && IsReference(b) && ReferenceEquals(Identity(a), Identity(b)),
    };

    private static bool IsReference(Value v) => v is ArrayValue or ObjectValue or NamespaceValue or FunctionValue;

    private static object Identity(Value v) => v switch
    {
        ArrayValue a => a.Items,
        ObjectValue o => o.Entries,
        NamespaceValue n => n.Entries,
        _ => v,
    };

    /// <summary>The ordering used by <c>sort</c> and <c>dictsort</c>: numbers (and booleans) with each other,
    /// strings with strings (by UTF-16 units, lower-cased unless <paramref name="caseSensitive"/>), none with none,
    /// undefined with undefined; any other pair is an error.</summary>
    public static int Compare(Value a, Value b, bool caseSensitive)
    {
        if (a is NullValue && b is NullValue) return 0;
        if (a is NullValue || b is NullValue) throw new RenderFault($"Cannot compare {a.TypeName} with {b.TypeName}");
        if (a is UndefinedValue && b is UndefinedValue) return 0;
        if (a is UndefinedValue || b is UndefinedValue) throw new RenderFault($"Cannot compare {a.TypeName} with {b.TypeName}");
        if (NumericLike(a) is double x && NumericLike(b) is double y) return x < y ? -1 : x > y ? 1 : 0;
        if (a.TypeName != b.TypeName) throw new RenderFault($"Cannot compare different types: {a.TypeName} and {b.TypeName}");
        if (a is StringValue sa && b is StringValue sb)
        {
            string l = caseSensitive ? sa.Value : JsText.ToLower(sa.Value);
            string r = caseSensitive ? sb.Value : JsText.ToLower(sb.Value);
            return Math.Sign(string.CompareOrdinal(l, r));
        }
        throw new RenderFault($"Cannot compare type: {a.TypeName}");
    }

    /// <summary>The number of a number or boolean (true is 1), else null.</summary>
    public static double? NumericLike(Value v) => v switch
    {
        NumberValue n => n.Value,
        BooleanValue b => b.Value ? 1 : 0,
        _ => null,
    };

    /// <summary>Stable sort (JavaScript's <c>Array.prototype.sort</c> is stable; <c>List.Sort</c> is not).</summary>
    public static List<T> StableSort<T>(IEnumerable<T> items, Comparison<T> comparison)
    {
        var indexed = items.Select((item, index) => (item, index)).ToArray();
        Array.Sort(indexed, (l, r) =>
        {
            int c = comparison(l.item, r.item);
            return c != 0 ? c : l.index.CompareTo(r.index);
        });
        return indexed.Select(p => p.item).ToList();
    }

    /// <summary>Python-like slicing as the reference does it: clamped bounds, negative indices from the end,
    /// a negative step walks backwards, a zero step gives nothing.</summary>
    public static List<T> Slice<T>(IReadOnlyList<T> items, double? start, double? stop, double? step)
    {
        double st = step ?? 1;
        int length = items.Count;
        double s, e;
        if (st >= 0)
        {
            s = start ?? 0;
            s = s < 0 ? Math.Max(length + s, 0) : Math.Min(s, length);
            e = stop ?? length;
            e = e < 0 ? Math.Max(length + e, 0) : Math.Min(e, length);
        }
        else
        {
            s = start ?? length - 1;
            s = s < 0 ? Math.Max(length + s, -1) : Math.Min(s, length - 1);
            e = stop ?? -1;
            e = e < -1 ? Math.Max(length + e, -1) : Math.Min(e, length - 1);
        }
        var result = new List<T>();
        int direction = Math.Sign(st);
        for (double i = s; direction * i < direction * e; i += st)
            result.Add(items[(int)i]);
        return result;
    }

    /// <summary>Builds display text for error messages and <c>raise_exception</c>: JavaScript's <c>String(x)</c>
    /// of the raw value.</summary>
    public static string MessageText(Value v) => v is UndefinedValue ? "" : Concat(v);
}
