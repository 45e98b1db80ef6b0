using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLm.Runtime.Sampling;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// A shape the generated text must take: <see cref="Prefix"/>, then one JSON value valid against
/// <see cref="Schema"/> (any JSON object when null), then <see cref="Suffix"/>, then the end of generation.
/// </summary>
public sealed record OutputConstraint
{
    /// <summary>The JSON Schema of the value, or null for any JSON object.</summary>
    public JsonElement? Schema { get; init; }

    /// <summary>Literal text before the value (e.g. "&lt;tool_call&gt;\n").</summary>
    public string Prefix { get; init; } = "";

    /// <summary>Literal text after the value.</summary>
    public string Suffix { get; init; } = "";

    /// <summary>
    /// The constraint for one tool call in <paramref name="format"/> to one of <paramref name="tools"/>:
    /// <c>{"name": NAME, "arguments": ARGS}</c> (<c>"parameters"</c> for Llama 3), with ARGS valid against the tool's
    /// parameter schema, wrapped in <c>&lt;tool_call&gt;</c> tags for <see cref="ToolCallFormat.Hermes"/>.
    /// </summary>
    public static OutputConstraint ForToolCall(IReadOnlyList<AIFunctionDeclaration> tools, ToolCallFormat format)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (tools.Count == 0)
            throw new ArgumentException("At least one tool is needed.", nameof(tools));
        string argumentsKey = format == ToolCallFormat.Llama3Json ? "parameters" : "arguments";
        var alternatives = new JsonArray();
        foreach (var tool in tools)
        {
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["name"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(tool.Name) },
                    [argumentsKey] = ParameterSchema(tool),
                },
                ["required"] = new JsonArray("name", argumentsKey),
                ["additionalProperties"] = false,
            });
        }
        JsonNode schema = alternatives.Count == 1 ? alternatives[0]!.DeepClone() : new JsonObject { ["anyOf"] = alternatives };
        return format == ToolCallFormat.Hermes
            ? new OutputConstraint { Schema = ToElement(schema), Prefix = "<tool_call>\n", Suffix = "\n</tool_call>" }
            : new OutputConstraint { Schema = ToElement(schema) };
    }

    /// <summary>A tool's parameter schema, made an object schema when it declares no type.</summary>
    private static JsonNode ParameterSchema(AIFunctionDeclaration tool)
    {
        var schema = JsonNode.Parse(tool.JsonSchema.GetRawText()) as JsonObject ?? [];
        schema.Remove("$schema");
        schema.Remove("title");
        schema.Remove("description");
        if (!schema.ContainsKey("type"))
            schema["type"] = "object";
        return schema;
    }

    private static JsonElement ToElement(JsonNode node) => JsonSerializer.SerializeToElement(node);
}

/// <summary>
/// Makes the sampler that enforces an <see cref="OutputConstraint"/> (the grammar engine, in EdgeLm). Plugged into
/// <see cref="ModelRunner"/>; without one, JSON response formats and required tool calls are asked for in the prompt
/// but not enforced.
/// </summary>
public interface IOutputConstraintProvider
{
    /// <summary>
    /// A fresh sampler (for one generation) that allows only text following <paramref name="constraint"/>, complete
    /// within <paramref name="tokenBudget"/> tokens where possible.
    /// </summary>
    /// <exception cref="InvalidChatRequestException">The schema is invalid or uses what the engine does not support.</exception>
    ISampler CreateSampler(OutputConstraint constraint, int tokenBudget);
}
