using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLm.Runtime.AI;
using Microsoft.Extensions.AI;

namespace EdgeLm.Server;

/// <summary>A chat completion request, read and checked: the conversation, the options, and how to answer.</summary>
internal sealed record ChatRequest(List<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage);

/// <summary>A text completion request, read and checked.</summary>
internal sealed record CompletionRequest(string Prompt, ChatOptions Options, bool Stream, bool IncludeUsage);

/// <summary>Reads OpenAI request bodies into Microsoft.Extensions.AI types, refusing what EdgeLm cannot honour.</summary>
internal static class OpenAIRequests
{
    private const int MaxStopSequences = 16;

    public static ChatRequest ReadChat(JsonFields request)
    {
        request.String("model");
        var messages = request.Array("messages", required: true)!;
        if (messages.Count == 0)
            throw ApiError.BadRequest("'messages' must hold at least one message.", "messages");
        var list = new List<ChatMessage>();
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < messages.Count; i++)
            list.Add(ReadMessage(request.Element("messages", messages, i), toolNames));

        var options = ReadSampling(request);
        options.MaxOutputTokens = (int?)(request.Integer("max_completion_tokens", 1, int.MaxValue) ?? request.Integer("max_tokens", 1, int.MaxValue));
        options.ResponseFormat = ReadResponseFormat(request);
        ReadTools(request, options);
        var (stream, includeUsage) = ReadStreaming(request);
        return new ChatRequest(list, options, stream, includeUsage);
    }

    public static CompletionRequest ReadCompletion(JsonFields request, int defaultMaxTokens)
    {
        request.String("model");
        string prompt = request.Raw("prompt") switch
        {
            null => throw ApiError.BadRequest("'prompt' is required.", "prompt"),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            JsonArray { Count: 1 } a when a[0]?.GetValueKind() == JsonValueKind.String => a[0]!.GetValue<string>(),
            JsonArray => throw ApiError.BadRequest("'prompt' must be a string or an array of exactly one string; token arrays and batches are not supported.", "prompt"),
            var other => throw request.Mistyped("prompt", "a string", other),
        };
        if (request.Boolean("echo") == true)
            throw ApiError.BadRequest("'echo' is not supported.", "echo");
        if (request.Has("suffix"))
            throw ApiError.BadRequest("'suffix' is not supported.", "suffix");
        var options = ReadSampling(request);
        options.MaxOutputTokens = (int)(request.Integer("max_tokens", 1, int.MaxValue) ?? defaultMaxTokens);
        options.ResponseFormat = ReadResponseFormat(request);
        var (stream, includeUsage) = ReadStreaming(request);
        return new CompletionRequest(prompt, options, stream, includeUsage);
    }

    /// <summary>The sampling fields both completion endpoints share.</summary>
    private static ChatOptions ReadSampling(JsonFields request)
    {
        var options = new ChatOptions
        {
            Temperature = (float?)request.Number("temperature", 0, 2),
            TopP = (float?)request.Number("top_p", 0, 1),
            TopK = (int?)request.Integer("top_k", 0, int.MaxValue),
            FrequencyPenalty = (float?)request.Number("frequency_penalty", -2, 2),
            PresencePenalty = (float?)request.Number("presence_penalty", -2, 2),
            Seed = request.Integer("seed"),
        };
        // llama.cpp's extensions to the OpenAI request.
        if (request.Number("min_p", 0, 1) is double minP)
            (options.AdditionalProperties ??= [])[ModelRunner.MinPKey] = (float)minP;
        if (request.Number("repeat_penalty", 0.01, 10) is double repeat)
            (options.AdditionalProperties ??= [])[ModelRunner.RepeatPenaltyKey] = (float)repeat;
        ReadLogitBias(request, options);
        // One choice per request: n other than 1 is refused (by the range).
        request.Integer("n", 1, 1);
        if (request.Boolean("logprobs") == true)
            throw ApiError.BadRequest("'logprobs' is not supported.", "logprobs");
        switch (request.Raw("stop"))
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                options.StopSequences = [v.GetValue<string>()];
                break;
            case JsonArray stops:
                if (stops.Count > MaxStopSequences)
                    throw ApiError.BadRequest($"'stop' may hold at most {MaxStopSequences} sequences.", "stop");
                options.StopSequences = [.. stops.Select((s, i) => s?.GetValueKind() == JsonValueKind.String ? s.GetValue<string>()
                    : throw ApiError.BadRequest($"'stop[{i}]' must be a string, got {JsonFields.Describe(s)}.", "stop"))];
                break;
            case var other:
                throw request.Mistyped("stop", "a string or an array of strings", other);
        }
        return options;
    }

    /// <summary>OpenAI's <c>logit_bias</c>: token id (as a string key) to a bias in [-100, 100]; -100 bans the token.</summary>
    private static void ReadLogitBias(JsonFields request, ChatOptions options)
    {
        var map = request.Object("logit_bias");
        if (map is null)
            return;
        var bias = new Dictionary<int, float>();
        foreach (var (key, _) in map.Json)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int token))
                throw ApiError.BadRequest($"'logit_bias' keys must be token ids, got '{key}'.", "logit_bias");
            bias[token] = (float)(map.Number(key, -100, 100)
                ?? throw ApiError.BadRequest($"'logit_bias.{key}' must be a number, got null.", "logit_bias"));
        }
        if (bias.Count > 0)
            (options.AdditionalProperties ??= [])[ModelRunner.LogitBiasKey] = (IReadOnlyDictionary<int, float>)bias;
    }

    private static (bool Stream, bool IncludeUsage) ReadStreaming(JsonFields request)
    {
        bool stream = request.Boolean("stream") ?? false;
        bool usage = request.Object("stream_options")?.Boolean("include_usage") ?? false;
        return (stream, usage);
    }

    private static ChatResponseFormat? ReadResponseFormat(JsonFields request)
    {
        var format = request.Object("response_format");
        if (format is null)
            return null;
        string type = format.String("type", required: true)!;
        switch (type)
        {
            case "text":
                return ChatResponseFormat.Text;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                var spec = format.Object("json_schema", required: true)!;
                string name = spec.String("name", required: true)!;
                string? description = spec.String("description");
                spec.Boolean("strict");
                var schema = spec.Raw("schema") switch
                {
                    null => (JsonElement?)null,
                    JsonObject obj => JsonSerializer.SerializeToElement(obj),
                    JsonValue b when b.GetValueKind() is JsonValueKind.True => null,
                    var other => throw spec.Mistyped("schema", "an object", other),
                };
                return schema is { } s ? ChatResponseFormat.ForJsonSchema(s, name, description) : ChatResponseFormat.Json;
            default:
                throw ApiError.BadRequest($"'response_format.type' must be text, json_object or json_schema, got '{type}'.", "response_format.type");
        }
    }

    private static void ReadTools(JsonFields request, ChatOptions options)
    {
        var tools = request.Array("tools");
        if (tools is not null)
        {
            options.Tools = [];
            for (int i = 0; i < tools.Count; i++)
            {
                var tool = request.Element("tools", tools, i);
                string type = tool.String("type", required: true)!;
                if (type != "function")
                    throw ApiError.BadRequest($"'{tool.PathOf("type")}' must be 'function', got '{type}'.", tool.PathOf("type"));
                var function = tool.Object("function", required: true)!;
                string name = function.String("name", required: true)!;
                if (name.Length == 0)
                    throw ApiError.BadRequest($"'{function.PathOf("name")}' must not be empty.", function.PathOf("name"));
                var parameters = function.Object("parameters")?.Json ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(name, function.String("description"), JsonSerializer.SerializeToElement(parameters)));
            }
        }
        switch (request.Raw("tool_choice"))
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                options.ToolMode = v.GetValue<string>() switch
                {
                    "none" => ChatToolMode.None,
                    "auto" => ChatToolMode.Auto,
                    "required" => ChatToolMode.RequireAny,
                    var other => throw ApiError.BadRequest($"'tool_choice' must be none, auto, required or a function, got '{other}'.", "tool_choice"),
                };
                break;
            case JsonObject:
                var choice = request.Object("tool_choice")!;
                string name = choice.Object("function", required: true)!.String("name", required: true)!;
                options.ToolMode = ChatToolMode.RequireSpecific(name);
                break;
            case var other:
                throw request.Mistyped("tool_choice", "a string or an object", other);
        }
        if (options.ToolMode is RequiredChatToolMode && options.Tools is not { Count: > 0 })
            throw ApiError.BadRequest("'tool_choice' requires a tool call but no 'tools' were given.", "tool_choice");
    }

    private static ChatMessage ReadMessage(JsonFields message, Dictionary<string, string> toolNames)
    {
        string role = message.String("role", required: true)!;
        string? text = ReadContent(message);
        switch (role)
        {
            case "system" or "developer":
                return new ChatMessage(ChatRole.System, text ?? "");
            case "user":
                return new ChatMessage(ChatRole.User, text ?? throw ApiError.BadRequest($"'{message.PathOf("content")}' is required.", message.PathOf("content")));
            case "assistant":
                var contents = new List<AIContent>();
                if (!string.IsNullOrEmpty(text))
                    contents.Add(new TextContent(text));
                var calls = message.Array("tool_calls");
                for (int i = 0; calls is not null && i < calls.Count; i++)
                {
                    var call = message.Element("tool_calls", calls, i);
                    string id = call.String("id", required: true)!;
                    var function = call.Object("function", required: true)!;
                    string name = function.String("name", required: true)!;
                    string arguments = function.String("arguments") ?? "{}";
                    Dictionary<string, object?>? parsed;
                    try
                    {
                        parsed = JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments, AIJsonUtilities.DefaultOptions);
                    }
                    catch (JsonException)
                    {
                        throw ApiError.BadRequest($"'{function.PathOf("arguments")}' must be a string holding a JSON object.", function.PathOf("arguments"));
                    }
                    toolNames[id] = name;
                    contents.Add(new FunctionCallContent(id, name, parsed));
                }
                return new ChatMessage(ChatRole.Assistant, contents);
            case "tool":
                string callId = message.String("tool_call_id", required: true)!;
                return new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, text ?? "")]);
            default:
                throw ApiError.BadRequest($"'{message.PathOf("role")}' must be system, developer, user, assistant or tool, got '{role}'.", message.PathOf("role"));
        }
    }

    /// <summary>A message's content: a string, or the text of a list of text parts; null when absent.</summary>
    private static string? ReadContent(JsonFields message)
    {
        switch (message.Raw("content"))
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return v.GetValue<string>();
            case JsonArray parts:
                var text = new System.Text.StringBuilder();
                for (int i = 0; i < parts.Count; i++)
                {
                    var part = message.Element("content", parts, i);
                    string type = part.String("type", required: true)!;
                    if (type != "text")
                        throw ApiError.BadRequest($"'{part.PathOf("type")}' is '{type}'; only text content is supported.", part.PathOf("type"));
                    text.Append(part.String("text", required: true));
                }
                return text.ToString();
            case var other:
                throw message.Mistyped("content", "a string or an array of content parts", other);
        }
    }
}
