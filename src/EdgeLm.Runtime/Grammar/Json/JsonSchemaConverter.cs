using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EdgeLm.Runtime.Grammar.Json;

/// <summary>
/// Walks a JSON Schema and writes one GBNF rule per object, array, property value and <c>$ref</c> target (named after
/// its path, e.g. <c>root-address-street</c>), using the shared rules of <see cref="JsonGrammarRules"/>.
/// See <see cref="JsonSchemaGrammar"/> for what is supported.
/// </summary>
internal sealed class JsonSchemaConverter
{
    private static readonly HashSet<string> Annotations =
    [
        "$schema", "$id", "$comment", "$anchor", "$defs", "definitions", "title", "description", "default", "examples",
        "format", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    ];

    private static readonly HashSet<string> Unsupported =
    [
        "pattern", "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependentRequired",
        "dependentSchemas", "dependencies", "multipleOf", "contains", "minContains", "maxContains", "prefixItems",
        "additionalItems", "not", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef",
        "$recursiveRef",
    ];

    private static readonly JsonSerializerOptions LiteralOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonElement _root;
    private readonly List<string> _rules = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _shared = [];
    private readonly Dictionary<string, string> _references = new(StringComparer.Ordinal);

    private JsonSchemaConverter(JsonElement root) => _root = root;

    public static string Convert(JsonElement schema)
    {
        var converter = new JsonSchemaConverter(schema);
        converter._names.Add("root");
        string root = converter.Visit(schema, "root", "#");
        var output = new StringBuilder();
        output.Append("root ::= ").Append(root).Append('\n');
        foreach (string rule in converter._rules)
            output.Append(rule).Append('\n');
        foreach (string rule in JsonGrammarRules.Render(converter._shared))
            output.Append(rule).Append('\n');
        return output.ToString();
    }

    // Returns a GBNF expression matching the JSON values valid under schema (at JSON pointer path).
    private string Visit(JsonElement schema, string hint, string path)
    {
        if (schema.ValueKind == JsonValueKind.True)
            return Shared("json-value");
        if (schema.ValueKind == JsonValueKind.False)
            throw Error(path, "the schema 'false' allows no value");
        if (schema.ValueKind != JsonValueKind.Object)
            throw Error(path, $"a schema must be an object or a boolean, not {schema.ValueKind}");
        var keywords = new List<string>();
        foreach (var property in schema.EnumerateObject())
        {
            if (Unsupported.Contains(property.Name))
                throw Error(path, $"'{property.Name}' is not supported");
            if (!Annotations.Contains(property.Name))
                keywords.Add(property.Name);
        }
        if (schema.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
            throw Error(path, "'uniqueItems: true' is not supported");

        if (schema.TryGetProperty("$ref", out var reference))
        {
            RequireAlone(keywords, "$ref", path);
            return Reference(reference, path);
        }
        if (schema.TryGetProperty("const", out var constant))
        {
            RequireAlone(keywords, "const", path, "type");
            if (!OfDeclaredType(schema, constant, path))
                throw Error(path, "'const' is not of the schema's 'type'");
            return Literal(constant);
        }
        if (schema.TryGetProperty("enum", out var values))
        {
            RequireAlone(keywords, "enum", path, "type");
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                throw Error(path, "'enum' must be a non-empty array");
            // Values of another type than the schema's 'type' could never validate: leave them out.
            var typed = values.EnumerateArray().Where(v => OfDeclaredType(schema, v, path)).ToList();
            if (typed.Count == 0)
                throw Error(path, "no 'enum' value is of the schema's 'type'");
            return Alternatives(typed.Select(Literal));
        }
        foreach (string combinator in (ReadOnlySpan<string>)["anyOf", "oneOf", "allOf"])
        {
            if (!schema.TryGetProperty(combinator, out var branches))
                continue;
            RequireAlone(keywords, combinator, path);
            if (branches.ValueKind != JsonValueKind.Array || branches.GetArrayLength() == 0)
                throw Error(path, $"'{combinator}' must be a non-empty array");
            if (combinator == "allOf" && branches.GetArrayLength() != 1)
                throw Error(path, "'allOf' with more than one schema is not supported");
            return Alternatives(branches.EnumerateArray().Select((b, i) => Named($"{hint}-{i}", Visit(b, $"{hint}-{i}", $"{path}/{combinator}/{i}"))));
        }
        var types = Types(schema, path);
        if (types.Count == 0)
            return Shared("json-value");
        return Alternatives(types.Select(t => VisitType(schema, t, hint, path)));
    }

    private bool OfDeclaredType(JsonElement schema, JsonElement value, string path) =>
        !schema.TryGetProperty("type", out _) || Types(schema, path).Any(t => t switch
        {
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            "string" => value.ValueKind == JsonValueKind.String,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "null" => value.ValueKind == JsonValueKind.Null,
            "number" => value.ValueKind == JsonValueKind.Number,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out decimal d) && decimal.Truncate(d) == d,
            _ => false,
        });

    private List<string> Types(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String)
                return [type.GetString()!];
            if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
                return type.EnumerateArray().Select(t => t.GetString()!).Distinct().ToList();
            throw Error(path, "'type' must be a type name or a non-empty array of them");
        }
        // No type: infer it from the keywords that only apply to one.
        bool Has(params string[] names) => names.Any(n => schema.TryGetProperty(n, out _));
        if (Has("properties", "required", "additionalProperties"))
            return ["object"];
        if (Has("items", "minItems", "maxItems"))
            return ["array"];
        if (Has("minLength", "maxLength"))
            return ["string"];
        if (Has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
            return ["number"];
        return [];
    }

    private string VisitType(JsonElement schema, string type, string hint, string path) => type switch
    {
        "object" => Object(schema, hint, path),
        "array" => Array(schema, hint, path),
        "string" => String(schema, path),
        "integer" => Integer(schema, path),
        "number" => Number(schema, path),
        "boolean" => Shared("json-boolean"),
        "null" => Shared("json-null"),
        _ => throw Error(path, $"unknown type '{type}'"),
    };

    // Properties in schema order (then required names 'properties' does not declare, with any value); required ones
    // always present, optional ones skippable. With n properties: "{" ws (kv_k rest_(k+1) | ...) "}" over every k
    // whose predecessors are all optional, where rest_i ::= ("," ws kv_i)? rest_(i+1) for an optional property and
    // "," ws kv_i rest_(i+1) for a required one. Objects with properties are closed: additionalProperties is not used.
    private string Object(JsonElement schema, string hint, string path)
    {
        Shared("ws");
        var properties = schema.TryGetProperty("properties", out var p) ? p : default;
        if (properties.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object))
            throw Error(path, "'properties' must be an object");
        var members = new List<(string Name, JsonElement Schema, string Path)>();
        if (properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (members.Any(m => m.Name == property.Name))
                    throw Error(path, $"'properties' names '{property.Name}' twice");
                members.Add((property.Name, property.Value, $"{path}/properties/{property.Name}"));
            }
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        bool hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        if (schema.TryGetProperty("required", out var req))
        {
            if (req.ValueKind != JsonValueKind.Array || req.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
                throw Error(path, "'required' must be an array of property names");
            foreach (var r in req.EnumerateArray())
            {
                string name = r.GetString()!;
                if (!required.Add(name) || members.Any(m => m.Name == name))
                    continue;
                if (hasAdditional && additional.ValueKind == JsonValueKind.False)
                    throw Error(path, $"required property '{name}' is neither declared nor allowed by 'additionalProperties: false'");
                var valueSchema = hasAdditional && additional.ValueKind == JsonValueKind.Object ? additional : default;
                members.Add((name, valueSchema, valueSchema.ValueKind == JsonValueKind.Object ? path + "/additionalProperties" : path + "/required"));
            }
        }
        if (members.Count == 0)
        {
            if (hasAdditional && additional.ValueKind == JsonValueKind.False)
                return Named(hint, "\"{\" ws \"}\"");
            if (hasAdditional && additional.ValueKind == JsonValueKind.Object)
            {
                string value = Visit(additional, hint + "-value", path + "/additionalProperties");
                string member = Named(hint + "-member", $"{Shared("json-string")} ws \":\" ws {value} ws");
                return Named(hint, $"\"{{\" ws ({member} (\",\" ws {member})*)? \"}}\"");
            }
            return Shared("json-object");
        }

        var kv = new string[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            var (name, memberSchema, memberPath) = members[i];
            string value = memberSchema.ValueKind == JsonValueKind.Undefined ? Shared("json-value") : Visit(memberSchema, $"{hint}-{name}", memberPath);
            string key = JsonGrammarRules.Literal(JsonSerializer.Serialize(name, LiteralOptions));
            kv[i] = Named($"{hint}-{name}-kv", $"{key} ws \":\" ws {value} ws");
        }
        // rest[i]: the members from i on, after at least one member was written; null when nothing remains.
        var rest = new string?[members.Count + 1];
        for (int i = members.Count - 1; i >= 0; i--)
        {
            string item = required.Contains(members[i].Name) ? $"\",\" ws {kv[i]}" : $"(\",\" ws {kv[i]})?";
            rest[i] = Named($"{hint}-rest-{i}", rest[i + 1] is { } next ? $"{item} {next}" : item);
        }
        var firsts = new List<string>();
        bool allOptional = true;
        for (int k = 0; k < members.Count; k++)
        {
            firsts.Add(rest[k + 1] is { } next ? $"{kv[k]} {next}" : kv[k]);
            if (required.Contains(members[k].Name))
            {
                allOptional = false;
                break;
            }
        }
        if (allOptional)
            firsts.Add("");
        return Named(hint, $"\"{{\" ws ({string.Join(" | ", firsts)}) \"}}\"");
    }

    private string Array(JsonElement schema, string hint, string path)
    {
        string item = Shared("json-value");
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
                throw Error(path, "'items' as an array (tuples) is not supported");
            item = Visit(items, hint + "-item", path + "/items");
        }
        int min = Count(schema, "minItems", path) ?? 0;
        int? max = Count(schema, "maxItems", path);
        if (max < min)
            throw Error(path, $"'maxItems' {max} is below 'minItems' {min}");
        Shared("ws");
        if (max == 0)
            return Named(hint, "\"[\" ws \"]\"");
        item = Named(hint + "-item", item);
        string tail = Repeat($"(\",\" ws {item} ws)", Math.Max(min - 1, 0), max - 1);
        string body = $"{item} ws {tail}".TrimEnd();
        return Named(hint, min == 0 ? $"\"[\" ws ({body})? \"]\"" : $"\"[\" ws {body} \"]\"");
    }

    private string String(JsonElement schema, string path)
    {
        int min = Count(schema, "minLength", path) ?? 0;
        int? max = Count(schema, "maxLength", path);
        if (max < min)
            throw Error(path, $"'maxLength' {max} is below 'minLength' {min}");
        if (min == 0 && max is null)
            return Shared("json-string");
        Shared("json-char");
        return $"\"\\\"\" {Repeat("json-char", min, max)} \"\\\"\"";
    }

    private string Integer(JsonElement schema, string path)
    {
        var b = Bounds(schema, path);
        if (b.Low is null && b.High is null)
            return Shared("json-integer");
        long? low = b.Low + (b.LowExclusive ? 1 : 0);
        long? high = b.High - (b.HighExclusive ? 1 : 0);
        return (low > high ? null : NumberRanges.Integer(low, high)) ?? throw Error(path, "no integer lies within the bounds");
    }

    private string Number(JsonElement schema, string path)
    {
        var b = Bounds(schema, path);
        if (b.Low is null && b.High is null)
            return Shared("json-number");
        return NumberRanges.Decimal(b.Low, b.LowExclusive, b.High, b.HighExclusive, Shared("json-fraction"))
            ?? throw Error(path, "no number lies within the bounds");
    }

    // The tightest lower and upper bounds, as integers: an integral bound keeps its exclusiveness, a non-integral one
    // is rounded inward and becomes inclusive (for numbers a subset of the allowed values, never a superset). Bounds
    // beyond the sixteen-digit cap are clamped just outside it.
    private static (long? Low, bool LowExclusive, long? High, bool HighExclusive) Bounds(JsonElement schema, string path)
    {
        (double Value, bool Exclusive)? low = null, high = null;
        void Raise(double v, bool exclusive)
        {
            var bound = v == Math.Floor(v) ? (v, exclusive) : (Math.Ceiling(v), false);
            if (low is not { } l || bound.Item1 > l.Value || (bound.Item1 == l.Value && bound.Item2))
                low = bound;
        }
        void Lower(double v, bool exclusive)
        {
            var bound = v == Math.Floor(v) ? (v, exclusive) : (Math.Floor(v), false);
            if (high is not { } h || bound.Item1 < h.Value || (bound.Item1 == h.Value && bound.Item2))
                high = bound;
        }
        bool exclusiveMinFlag = schema.TryGetProperty("exclusiveMinimum", out var xmin) && xmin.ValueKind == JsonValueKind.True;
        bool exclusiveMaxFlag = schema.TryGetProperty("exclusiveMaximum", out var xmax) && xmax.ValueKind == JsonValueKind.True;
        if (schema.TryGetProperty("minimum", out var min))
            Raise(NumberOf(min, "minimum", path), exclusiveMinFlag);
        if (schema.TryGetProperty("maximum", out var max))
            Lower(NumberOf(max, "maximum", path), exclusiveMaxFlag);
        if (xmin.ValueKind == JsonValueKind.Number)
            Raise(xmin.GetDouble(), true);
        if (xmax.ValueKind == JsonValueKind.Number)
            Lower(xmax.GetDouble(), true);
        static long? Clamp(double? v) => v is { } x ? (long)Math.Clamp(x, -NumberRanges.Cap - 1.0, NumberRanges.Cap + 1.0) : null;
        return (Clamp(low?.Value), low?.Exclusive ?? false, Clamp(high?.Value), high?.Exclusive ?? false);
    }

    private static double NumberOf(JsonElement value, string keyword, string path) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw Error(path, $"'{keyword}' must be a number");

    private static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int count) || count < 0)
            throw Error(path, $"'{keyword}' must be a non-negative integer");
        if (count > GbnfParser.MaxRepetition)
            throw Error(path, $"'{keyword}' {count} is larger than the supported {GbnfParser.MaxRepetition}");
        return count;
    }

    private string Reference(JsonElement reference, string path)
    {
        string target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw Error(path, "'$ref' must be a string");
        if (_references.TryGetValue(target, out string? rule))
            return rule;
        if (target != "#" && !target.StartsWith("#/", StringComparison.Ordinal))
            throw Error(path, $"'$ref' '{target}' points outside this document; only local references (#/$defs/...) are supported");
        var node = _root;
        foreach (string raw in target.Length > 1 ? target[2..].Split('/') : [])
        {
            string segment = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(segment, out var child))
                node = child;
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(segment, out int index) && index >= 0 && index < node.GetArrayLength())
                node = node[index];
            else
                throw Error(path, $"'$ref' '{target}' does not resolve");
        }
        if (target == "#")
            return _references[target] = "root";
        string name = UniqueName("ref-" + target.Split('/')[^1]);
        _references[target] = name;
        _rules.Add($"{name} ::= {Visit(node, name, target)}");
        return name;
    }

    private string Literal(JsonElement value) => JsonGrammarRules.Literal(JsonSerializer.Serialize(value, LiteralOptions));

    private string Shared(string name)
    {
        JsonGrammarRules.Use(name, _shared);
        _names.Add(name);
        return name;
    }

    // An expression as a rule reference: itself if it already is a single name, else a new rule named after hint.
    private string Named(string hint, string expression)
    {
        if (IsName(expression))
            return expression;
        string name = UniqueName(hint);
        _rules.Add($"{name} ::= {expression}");
        return name;
    }

    private string UniqueName(string hint)
    {
        var clean = new StringBuilder();
        foreach (char c in hint)
            clean.Append(char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-');
        string name = clean.ToString();
        if (JsonGrammarRules.IsShared(name) || _names.Contains(name))
        {
            int n = 1;
            while (_names.Contains($"{name}-{n}"))
                n++;
            name = $"{name}-{n}";
        }
        _names.Add(name);
        return name;
    }

    private static bool IsName(string expression) => expression.Length > 0 && expression.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string Alternatives(IEnumerable<string> expressions)
    {
        var list = expressions.Distinct().ToList();
        return list.Count == 1 ? list[0] : "(" + string.Join(" | ", list) + ")";
    }

    private static string Repeat(string unit, int min, int? max) => (min, max) switch
    {
        (0, 0) => "",
        (0, null) => unit + "*",
        (1, null) => unit + "+",
        (_, null) => $"{unit}{{{min},}}",
        _ when min == max => min == 1 ? unit : $"{unit}{{{min}}}",
        (0, 1) => unit + "?",
        _ => $"{unit}{{{min},{max}}}",
    };

    private static void RequireAlone(List<string> keywords, string keyword, string path, params string[] alsoAllowed)
    {
        var others = keywords.Where(k => k != keyword && !alsoAllowed.Contains(k)).ToList();
        if (others.Count > 0)
            throw Error(path, $"'{keyword}' cannot be combined with {string.Join(", ", others.Select(o => $"'{o}'"))}");
    }

    private static GrammarException Error(string path, string message) => new($"JSON Schema at {path}: {message}");
}
