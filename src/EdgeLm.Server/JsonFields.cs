using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLm.Server;

/// <summary>
/// Typed, checked access to the fields of a JSON request object. A missing required field or a value of the wrong
/// kind becomes a 400 <see cref="ApiError"/> naming the field by its path (e.g. <c>messages[2].role</c>).
/// </summary>
internal sealed class JsonFields(JsonObject json, string path = "")
{
    /// <summary>The object read.</summary>
    public JsonObject Json { get; } = json;

    /// <summary>Reads a request body: it must be one JSON object.</summary>
    public static JsonFields ParseBody(byte[] body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
        return node is JsonObject obj ? new JsonFields(obj) : throw ApiError.BadRequest("The request body must be a JSON object.");
    }

    /// <summary>The field's path, for messages.</summary>
    public string PathOf(string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>The raw value, or null when absent or JSON null.</summary>
    public JsonNode? Raw(string name) => Json[name];

    /// <summary>Whether the field is present and not null.</summary>
    public bool Has(string name) => Json[name] is not null;

    public string? String(string name, bool required = false)
    {
        var node = Get(name, required);
        if (node is null)
            return null;
        return node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw Mistyped(name, "a string", node);
    }

    public bool? Boolean(string name)
    {
        var node = Get(name, required: false);
        if (node is null)
            return null;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Mistyped(name, "a boolean", node),
        };
    }

    public double? Number(string name, double min = double.MinValue, double max = double.MaxValue)
    {
        var node = Get(name, required: false);
        if (node is null)
            return null;
        if (node.GetValueKind() != JsonValueKind.Number)
            throw Mistyped(name, "a number", node);
        double value = node.GetValue<double>();
        if (value < min || value > max)
            throw ApiError.BadRequest($"'{PathOf(name)}' must be between {min} and {max}, got {value}.", PathOf(name));
        return value;
    }

    public long? Integer(string name, long min = long.MinValue, long max = long.MaxValue)
    {
        var node = Get(name, required: false);
        if (node is null)
            return null;
        if (node.GetValueKind() != JsonValueKind.Number || !((JsonValue)node).TryGetValue(out long value))
            throw Mistyped(name, "an integer", node);
        if (value < min || value > max)
            throw ApiError.BadRequest($"'{PathOf(name)}' must be between {min} and {max}, got {value}.", PathOf(name));
        return value;
    }

    public JsonArray? Array(string name, bool required = false)
    {
        var node = Get(name, required);
        return node is null ? null : node as JsonArray ?? throw Mistyped(name, "an array", node);
    }

    public JsonFields? Object(string name, bool required = false)
    {
        var node = Get(name, required);
        return node is null ? null : node is JsonObject obj ? new JsonFields(obj, PathOf(name)) : throw Mistyped(name, "an object", node);
    }

    /// <summary>Element <paramref name="index"/> of array field <paramref name="name"/>, which must be an object.</summary>
    public JsonFields Element(string name, JsonArray array, int index) =>
        array[index] is JsonObject obj ? new JsonFields(obj, $"{PathOf(name)}[{index}]")
            : throw ApiError.BadRequest($"'{PathOf(name)}[{index}]' must be an object, got {Describe(array[index])}.", $"{PathOf(name)}[{index}]");

    public ApiError Mistyped(string name, string expected, JsonNode? node) =>
        ApiError.BadRequest($"'{PathOf(name)}' must be {expected}, got {Describe(node)}.", PathOf(name));

    public static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "an unknown value",
    };

    private JsonNode? Get(string name, bool required)
    {
        var node = Json[name];
        if (node is null && required)
            throw ApiError.BadRequest($"'{PathOf(name)}' is required.", PathOf(name));
        return node;
    }
}
