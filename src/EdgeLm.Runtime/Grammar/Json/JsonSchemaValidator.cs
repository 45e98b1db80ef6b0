using System.Text.Json;

namespace EdgeLm.Runtime.Grammar.Json;

/// <summary>
/// Checks a JSON value against a schema in the subset <see cref="JsonSchemaGrammar"/> supports, with JSON Schema's
/// meaning (oneOf exactly one branch, integers any number with no fractional part, lengths in code points,
/// enum/const by value). Made for testing constrained output; keywords outside the subset are ignored.
/// </summary>
public static class JsonSchemaValidator
{
    /// <summary>
    /// The problems of <paramref name="instance"/> under <paramref name="schema"/> (empty when valid), each prefixed by
    /// the JSON pointer of the offending value. With <paramref name="closedObjects"/>, an object schema with
    /// <c>properties</c> and no <c>additionalProperties</c> refuses properties it neither declares nor requires, as the
    /// grammar does.
    /// </summary>
    public static IReadOnlyList<string> Validate(JsonElement schema, JsonElement instance, bool closedObjects = true)
    {
        var errors = new List<string>();
        new Context(schema, closedObjects, errors).Check(schema, instance, "");
        return errors;
    }

    /// <summary>Validates JSON texts; a text that does not parse is reported as the only problem.</summary>
    public static IReadOnlyList<string> Validate(string schemaJson, string instanceJson, bool closedObjects = true)
    {
        using var schema = JsonDocument.Parse(schemaJson);
        JsonDocument instance;
        try
        {
            instance = JsonDocument.Parse(instanceJson);
        }
        catch (JsonException e)
        {
            return [$"not JSON: {e.Message}"];
        }
        using (instance)
            return Validate(schema.RootElement, instance.RootElement, closedObjects);
    }

    private sealed class Context(JsonElement root, bool closedObjects, List<string> errors)
    {
        public void Check(JsonElement schema, JsonElement value, string path)
        {
            if (schema.ValueKind == JsonValueKind.True)
                return;
            if (schema.ValueKind == JsonValueKind.False)
            {
                errors.Add($"{path}: no value is allowed");
                return;
            }
            if (schema.TryGetProperty("$ref", out var reference))
                Check(Resolve(reference.GetString()!), value, path);
            if (schema.TryGetProperty("const", out var constant) && !JsonValueEquals(constant, value))
                errors.Add($"{path}: is not the constant {constant.GetRawText()}");
            if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonValueEquals(v, value)))
                errors.Add($"{path}: is not one of the enum values");
            if (schema.TryGetProperty("anyOf", out var anyOf) && !anyOf.EnumerateArray().Any(b => Passes(b, value, path)))
                errors.Add($"{path}: matches none of anyOf");
            if (schema.TryGetProperty("oneOf", out var oneOf))
            {
                int matches = oneOf.EnumerateArray().Count(b => Passes(b, value, path));
                if (matches != 1)
                    errors.Add($"{path}: matches {matches} branches of oneOf, not exactly one");
            }
            if (schema.TryGetProperty("allOf", out var allOf))
            {
                foreach (var branch in allOf.EnumerateArray())
                    Check(branch, value, path);
            }
            if (schema.TryGetProperty("type", out var type))
            {
                var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!) : [type.GetString()!];
                if (!names.Any(n => HasType(value, n)))
                    errors.Add($"{path}: is {value.ValueKind}, not {type.GetRawText()}");
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.Object: CheckObject(schema, value, path); break;
                case JsonValueKind.Array: CheckArray(schema, value, path); break;
                case JsonValueKind.String: CheckString(schema, value, path); break;
                case JsonValueKind.Number: CheckNumber(schema, value, path); break;
            }
        }

        private bool Passes(JsonElement schema, JsonElement value, string path)
        {
            var inner = new List<string>();
            new Context(root, closedObjects, inner).Check(schema, value, path);
            return inner.Count == 0;
        }

        private void CheckObject(JsonElement schema, JsonElement value, string path)
        {
            bool hasProperties = schema.TryGetProperty("properties", out var properties);
            bool hasRequired = schema.TryGetProperty("required", out var required);
            if (hasRequired)
            {
                foreach (var name in required.EnumerateArray())
                {
                    if (!value.TryGetProperty(name.GetString()!, out _))
                        errors.Add($"{path}: lacks required property '{name.GetString()}'");
                }
            }
            bool hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
            foreach (var member in value.EnumerateObject())
            {
                string memberPath = $"{path}/{member.Name.Replace("~", "~0").Replace("/", "~1")}";
                if (hasProperties && properties.TryGetProperty(member.Name, out var propertySchema))
                    Check(propertySchema, member.Value, memberPath);
                else if (hasAdditional)
                    Check(additional, member.Value, memberPath);
                else if (closedObjects && hasProperties && !(hasRequired && required.EnumerateArray().Any(r => r.GetString() == member.Name)))
                    errors.Add($"{memberPath}: is not a declared property");
            }
        }

        private void CheckArray(JsonElement schema, JsonElement value, string path)
        {
            int length = value.GetArrayLength();
            if (schema.TryGetProperty("minItems", out var min) && length < min.GetInt32())
                errors.Add($"{path}: has {length} items, fewer than {min.GetInt32()}");
            if (schema.TryGetProperty("maxItems", out var max) && length > max.GetInt32())
                errors.Add($"{path}: has {length} items, more than {max.GetInt32()}");
            if (schema.TryGetProperty("items", out var items) && items.ValueKind != JsonValueKind.Array)
            {
                int i = 0;
                foreach (var item in value.EnumerateArray())
                    Check(items, item, $"{path}/{i++}");
            }
        }

        private void CheckString(JsonElement schema, JsonElement value, string path)
        {
            int length = value.GetString()!.EnumerateRunes().Count();
            if (schema.TryGetProperty("minLength", out var min) && length < min.GetInt32())
                errors.Add($"{path}: has {length} characters, fewer than {min.GetInt32()}");
            if (schema.TryGetProperty("maxLength", out var max) && length > max.GetInt32())
                errors.Add($"{path}: has {length} characters, more than {max.GetInt32()}");
        }

        private void CheckNumber(JsonElement schema, JsonElement value, string path)
        {
            int Compare(JsonElement bound) => CompareNumbers(value, bound);
            bool exclusiveMinFlag = schema.TryGetProperty("exclusiveMinimum", out var xmin) && xmin.ValueKind == JsonValueKind.True;
            bool exclusiveMaxFlag = schema.TryGetProperty("exclusiveMaximum", out var xmax) && xmax.ValueKind == JsonValueKind.True;
            if (schema.TryGetProperty("minimum", out var min) && (exclusiveMinFlag ? Compare(min) <= 0 : Compare(min) < 0))
                errors.Add($"{path}: {value.GetRawText()} is below the minimum {min.GetRawText()}");
            if (schema.TryGetProperty("maximum", out var max) && (exclusiveMaxFlag ? Compare(max) >= 0 : Compare(max) > 0))
                errors.Add($"{path}: {value.GetRawText()} is above the maximum {max.GetRawText()}");
            if (xmin.ValueKind == JsonValueKind.Number && Compare(xmin) <= 0)
                errors.Add($"{path}: {value.GetRawText()} is not above {xmin.GetRawText()}");
            if (xmax.ValueKind == JsonValueKind.Number && Compare(xmax) >= 0)
                errors.Add($"{path}: {value.GetRawText()} is not below {xmax.GetRawText()}");
        }

        private JsonElement Resolve(string reference)
        {
            var node = root;
            foreach (string raw in reference.Length > 1 ? reference[2..].Split('/') : [])
            {
                string segment = Uri.UnescapeDataString(raw).Replace("~1", "/").Replace("~0", "~");
                node = node.ValueKind == JsonValueKind.Array ? node[int.Parse(segment)] : node.GetProperty(segment);
            }
            return node;
        }
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && IsIntegral(value),
        _ => false,
    };

    private static bool IsIntegral(JsonElement number) =>
        number.TryGetDecimal(out decimal d) ? decimal.Truncate(d) == d : double.IsFinite(number.GetDouble()) && Math.Floor(number.GetDouble()) == number.GetDouble();

    // Exact where both fit a decimal (28 digits), otherwise by double.
    private static int CompareNumbers(JsonElement a, JsonElement b) =>
        a.TryGetDecimal(out decimal x) && b.TryGetDecimal(out decimal y) ? x.CompareTo(y) : a.GetDouble().CompareTo(b.GetDouble());

    /// <summary>JSON equality: numbers by value, objects regardless of member order, arrays in order.</summary>
    public static bool JsonValueEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
            return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Number:
                return CompareNumbers(a, b) == 0;
            case JsonValueKind.String:
                return a.GetString() == b.GetString();
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => JsonValueEquals(p.First, p.Second));
            case JsonValueKind.Object:
                var left = a.EnumerateObject().ToList();
                var right = b.EnumerateObject().ToList();
                return left.Count == right.Count && left.All(m => b.TryGetProperty(m.Name, out var other) && JsonValueEquals(m.Value, other));
            default:
                return true;
        }
    }
}
