using System.Text.Json.Nodes;
using EdgeLm.Runtime.AI;
using Microsoft.Extensions.AI;

namespace EdgeLm.Server;

/// <summary><c>POST /v1/completions</c>: plain text continuation of a prompt, whole or streamed.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        var request = OpenAIRequests.ReadCompletion(await RequestBody.ReadAsync(http), state.Options.DefaultCompletionTokens);
        var cancel = http.RequestAborted;
        var plan = state.Runner.PrepareCompletion(request.Prompt, request.Options);
        await using var run = await state.Runner.StartAsync(plan, cancel);
        string id = EdgeLmChatClient.NewId("cmpl-");
        var created = DateTimeOffset.UtcNow;
        JsonObject Body(string text, string? finish) => new()
        {
            ["id"] = id,
            ["object"] = "text_completion",
            ["created"] = Sse.UnixTime(created),
            ["model"] = state.Runner.ModelId,
            ["choices"] = new JsonArray(new JsonObject { ["text"] = text, ["index"] = 0, ["logprobs"] = null, ["finish_reason"] = finish }),
        };

        if (!request.Stream)
        {
            await foreach (var _ in run.ReadAllAsync(cancel))
            {
            }
            var result = await run.Completion;
            var usage = Usage(result);
            state.Metrics.RecordTokens(usage);
            var body = Body(result.Text, EdgeLmChatClient.FinishReason(result.StopReason, calledTools: false).Value);
            body["usage"] = ChatCompletionsEndpoint.UsageJson(usage);
            await Sse.WriteJsonAsync(http.Response, body);
            return;
        }

        Sse.Begin(http.Response);
        await foreach (var token in run.ReadAllAsync(cancel))
        {
            if (token.Text.Length > 0)
                await Sse.WriteAsync(http.Response, Body(token.Text, null), cancel);
        }
        var final = await run.Completion;
        var totals = Usage(final);
        state.Metrics.RecordTokens(totals);
        var last = Body("", EdgeLmChatClient.FinishReason(final.StopReason, calledTools: false).Value);
        if (request.IncludeUsage)
            last["usage"] = ChatCompletionsEndpoint.UsageJson(totals);
        await Sse.WriteAsync(http.Response, last, cancel);
        await Sse.DoneAsync(http.Response, cancel);
    }

    private static UsageDetails Usage(Runtime.Generation.GenerationResult result) => new()
    {
        InputTokenCount = result.PromptTokens.Length,
        OutputTokenCount = result.Tokens.Length,
        TotalTokenCount = result.PromptTokens.Length + result.Tokens.Length,
    };
}
