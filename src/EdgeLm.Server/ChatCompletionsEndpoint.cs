using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLm.Runtime.AI;
using Microsoft.Extensions.AI;

namespace EdgeLm.Server;

/// <summary><c>POST /v1/chat/completions</c>: a chat reply, whole or streamed as server-sent events, through <see cref="EdgeLmChatClient"/>.</summary>
internal static class ChatCompletionsEndpoint
{
    private static readonly JsonSerializerOptions ArgumentsJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        var request = OpenAIRequests.ReadChat(await RequestBody.ReadAsync(http));
        var cancel = http.RequestAborted;
        if (!request.Stream)
        {
            var response = await state.Chat.GetResponseAsync(request.Messages, request.Options, cancel);
            state.Metrics.RecordTokens(response.Usage);
            await Sse.WriteJsonAsync(http.Response, ToJson(response, state.Runner.ModelId));
            return;
        }

        await using var updates = state.Chat.GetStreamingResponseAsync(request.Messages, request.Options, cancel).GetAsyncEnumerator(cancel);
        // The first step prepares the prompt and waits for a session: its errors still get a proper status code.
        bool more = await updates.MoveNextAsync();
        Sse.Begin(http.Response);
        var created = DateTimeOffset.UtcNow;
        string id = (more ? updates.Current.ResponseId : null) ?? EdgeLmChatClient.NewId("chatcmpl-");
        JsonObject Chunk(JsonObject delta, string? finish = null) => new()
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = Sse.UnixTime(created),
            ["model"] = state.Runner.ModelId,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }),
        };

        await Sse.WriteAsync(http.Response, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }), cancel);
        int callIndex = 0;
        UsageDetails? usage = null;
        for (; more; more = await updates.MoveNextAsync())
        {
            var update = updates.Current;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } text:
                        await Sse.WriteAsync(http.Response, Chunk(new JsonObject { ["content"] = text.Text }), cancel);
                        break;
                    case FunctionCallContent call:
                        var calls = new JsonArray(ToolCallJson(call, callIndex++));
                        await Sse.WriteAsync(http.Response, Chunk(new JsonObject { ["tool_calls"] = calls }), cancel);
                        break;
                    case UsageContent u:
                        usage = u.Details;
                        break;
                }
            }
            if (update.FinishReason is { } finish)
                await Sse.WriteAsync(http.Response, Chunk([], finish.Value), cancel);
        }
        state.Metrics.RecordTokens(usage);
        if (request.IncludeUsage && usage is not null)
        {
            var last = Chunk([]);
            last["choices"] = new JsonArray();
            last["usage"] = UsageJson(usage);
            await Sse.WriteAsync(http.Response, last, cancel);
        }
        await Sse.DoneAsync(http.Response, cancel);
    }

    /// <summary>A whole response as OpenAI's chat.completion object.</summary>
    private static JsonObject ToJson(ChatResponse response, string model)
    {
        var text = new StringBuilder();
        var calls = new JsonArray();
        foreach (var content in response.Messages.SelectMany(m => m.Contents))
        {
            if (content is TextContent t)
                text.Append(t.Text);
            else if (content is FunctionCallContent call)
                calls.Add(ToolCallJson(call, index: null));
        }
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = calls.Count > 0 && string.IsNullOrWhiteSpace(text.ToString()) ? null : text.ToString(),
        };
        if (calls.Count > 0)
            message["tool_calls"] = calls;
        return new JsonObject
        {
            ["id"] = response.ResponseId ?? EdgeLmChatClient.NewId("chatcmpl-"),
            ["object"] = "chat.completion",
            ["created"] = Sse.UnixTime(response.CreatedAt ?? DateTimeOffset.UtcNow),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = (response.FinishReason ?? ChatFinishReason.Stop).Value,
            }),
            ["usage"] = UsageJson(response.Usage),
        };
    }

    private static JsonObject ToolCallJson(FunctionCallContent call, int? index)
    {
        var json = new JsonObject();
        if (index is int i)
            json["index"] = i;
        json["id"] = call.CallId;
        json["type"] = "function";
        json["function"] = new JsonObject
        {
            ["name"] = call.Name,
            ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), ArgumentsJson),
        };
        return json;
    }

    public static JsonObject UsageJson(UsageDetails? usage) => new()
    {
        ["prompt_tokens"] = usage?.InputTokenCount ?? 0,
        ["completion_tokens"] = usage?.OutputTokenCount ?? 0,
        ["total_tokens"] = usage?.TotalTokenCount ?? 0,
    };
}
