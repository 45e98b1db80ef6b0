using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace EdgeLm.Server;

/// <summary><c>POST /v1/embeddings</c>: one embedding per input text, as floats or base64 (little-endian float32).</summary>
internal static class EmbeddingsEndpoint
{
    private const int MaxInputs = 256;

    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        var request = await RequestBody.ReadAsync(http);
        request.String("model");
        var inputs = request.Raw("input") switch
        {
            null => throw ApiError.BadRequest("'input' is required.", "input"),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
            JsonArray a => a.Select((item, i) => item?.GetValueKind() == JsonValueKind.String ? item.GetValue<string>()
                : throw ApiError.BadRequest($"'input[{i}]' must be a string (token arrays are not supported), got {JsonFields.Describe(item)}.", "input")).ToList(),
            var other => throw request.Mistyped("input", "a string or an array of strings", other),
        };
        if (inputs.Count == 0 || inputs.Count > MaxInputs)
            throw ApiError.BadRequest($"'input' must hold between 1 and {MaxInputs} texts, got {inputs.Count}.", "input");
        string format = request.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
            throw ApiError.BadRequest($"'encoding_format' must be float or base64, got '{format}'.", "encoding_format");
        var options = new EmbeddingGenerationOptions { Dimensions = (int?)request.Integer("dimensions", 1, int.MaxValue) };

        var embeddings = await state.Embeddings.GenerateAsync(inputs, options, http.RequestAborted);
        var data = new JsonArray();
        for (int i = 0; i < embeddings.Count; i++)
        {
            var vector = embeddings[i].Vector;
            JsonNode value = format == "base64"
                ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.Span))
                : new JsonArray([.. vector.ToArray().Select(x => (JsonNode)x)]);
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = value });
        }
        long tokens = embeddings.Usage?.InputTokenCount ?? 0;
        await Sse.WriteJsonAsync(http.Response, new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = state.Runner.ModelId,
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }
}
