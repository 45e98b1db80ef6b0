using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLm.Runtime.AI;

/// <summary>A tool call read from a model's output: the function's name and its arguments (a JSON object).</summary>
public sealed record ParsedToolCall(string Name, JsonObject Arguments)
{
    /// <summary>The arguments as compact JSON text (what OpenAI's API carries in <c>function.arguments</c>).</summary>
    public string ArgumentsJson => Arguments.ToJsonString();

    /// <summary>
    /// Reads a call from a JSON object shaped <c>{"name": "...", "arguments": {...}}</c>, where the arguments may also
    /// be named <c>parameters</c> (Llama 3) or be a string holding a JSON object (as OpenAI writes them); missing
    /// arguments mean none. Returns null for anything else.
    /// </summary>
    public static ParsedToolCall? FromJson(JsonNode? node)
    {
        if (node is not JsonObject call || call["name"] is not JsonValue nameValue
            || !nameValue.TryGetValue(out string? name) || string.IsNullOrEmpty(name))
            return null;
        var arguments = call["arguments"] ?? call["parameters"];
        switch (arguments)
        {
            case null:
                return new ParsedToolCall(name, []);
            case JsonObject obj:
                return new ParsedToolCall(name, (JsonObject)obj.DeepClone());
            case JsonValue text when text.TryGetValue(out string? json):
                try
                {
                    return JsonNode.Parse(json) is JsonObject parsed ? new ParsedToolCall(name, parsed) : null;
                }
                catch (JsonException)
                {
                    return null;
                }
            default:
                return null;
        }
    }

    /// <summary>Parses <paramref name="json"/> as a call (see <see cref="FromJson(JsonNode?)"/>); null when it is not one.</summary>
    public static ParsedToolCall? FromJson(string json)
    {
        try
        {
            return FromJson(JsonNode.Parse(json));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A piece of parsed model output: either plain text or one complete tool call.</summary>
public readonly record struct OutputSegment(string? Text, ParsedToolCall? Call)
{
    /// <summary>A text piece.</summary>
    public static OutputSegment OfText(string text) => new(text, null);

    /// <summary>A tool call.</summary>
    public static OutputSegment OfCall(ParsedToolCall call) => new(null, call);
}
