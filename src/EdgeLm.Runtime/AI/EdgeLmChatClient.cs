using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeLm.Runtime.Generation;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// <see cref="IChatClient"/> over a local model. Honours <see cref="ChatOptions"/>: Temperature, TopP, TopK,
/// Frequency/PresencePenalty, Seed, MaxOutputTokens, StopSequences, Instructions, ResponseFormat (JSON, JSON
/// Schema: enforced when the runner has a constraint provider), Tools with ToolMode auto / none / required (a
/// required call is enforced the same way). Tool calls come back as <see cref="FunctionCallContent"/>, in streaming
/// too, so it works under <c>UseFunctionInvocation()</c>. Thread-safe: concurrent requests share the runner's
/// session pool.
/// </summary>
public sealed class EdgeLmChatClient : IChatClient
{
    private readonly bool _ownsRunner;
    private readonly ChatClientMetadata _metadata;

    /// <summary>A client over <paramref name="runner"/>, which stays the caller's.</summary>
    public EdgeLmChatClient(ModelRunner runner) : this(runner, ownsRunner: false)
    {
    }

    /// <summary>A client over <paramref name="model"/> with its own runner (disposed with the client; the model is not).</summary>
    public EdgeLmChatClient(LanguageModel model, ModelRunnerOptions? options = null) : this(new ModelRunner(model, options), ownsRunner: true)
    {
    }

    private EdgeLmChatClient(ModelRunner runner, bool ownsRunner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        Runner = runner;
        _ownsRunner = ownsRunner;
        _metadata = new ChatClientMetadata("edgelm", null, runner.ModelId);
    }

    /// <summary>The runner requests go to.</summary>
    public ModelRunner Runner { get; }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var response = await GetStreamingResponseAsync(messages, options, cancellationToken)
            .ToChatResponseAsync(cancellationToken).ConfigureAwait(false);
        // Whitespace around tool-call blocks is not an answer.
        foreach (var message in response.Messages)
        {
            if (message.Contents.OfType<FunctionCallContent>().Any())
            {
                var blank = message.Contents.Where(c => c is TextContent t && string.IsNullOrWhiteSpace(t.Text)).ToList();
                foreach (var c in blank)
                    message.Contents.Remove(c);
            }
        }
        return response;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var plan = Runner.PrepareChat(messages, options);
        await using var run = await Runner.StartAsync(plan, cancellationToken).ConfigureAwait(false);
        string responseId = NewId("chatcmpl-");
        string messageId = NewId("msg-");
        var created = DateTimeOffset.UtcNow;
        var parser = plan.ToolCallFormat is { } format ? new ToolCallParser(format) : null;
        var segments = new List<OutputSegment>();
        bool calledTools = false;

        ChatResponseUpdate Update(AIContent content) => new(ChatRole.Assistant, [content])
        {
            ResponseId = responseId,
            MessageId = messageId,
            CreatedAt = created,
            ModelId = Runner.ModelId,
        };

        await foreach (var token in run.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (token.Text.Length == 0)
                continue;
            if (parser is null)
            {
                yield return Update(new TextContent(token.Text));
                continue;
            }
            parser.Push(token.Text, segments);
            foreach (var segment in segments)
            {
                calledTools |= segment.Call is not null;
                yield return Update(ToContent(segment));
            }
            segments.Clear();
        }
        var result = await run.Completion.ConfigureAwait(false);
        if (parser is not null)
        {
            parser.Complete(segments);
            foreach (var segment in segments)
            {
                calledTools |= segment.Call is not null;
                yield return Update(ToContent(segment));
            }
        }
        var usage = new UsageDetails
        {
            InputTokenCount = result.PromptTokens.Length,
            OutputTokenCount = result.Tokens.Length,
            TotalTokenCount = result.PromptTokens.Length + result.Tokens.Length,
        };
        var final = Update(new UsageContent(usage));
        final.FinishReason = FinishReason(result.StopReason, calledTools);
        yield return final;
    }

    /// <summary>The OpenAI-style finish reason of a generation.</summary>
    public static ChatFinishReason FinishReason(StopReason reason, bool calledTools) =>
        calledTools ? ChatFinishReason.ToolCalls
        : reason is StopReason.MaxTokens or StopReason.ContextFull ? ChatFinishReason.Length
        : ChatFinishReason.Stop;

    /// <summary>A parsed segment as content: text, or a function call with a fresh call id.</summary>
    public static AIContent ToContent(OutputSegment segment)
    {
        if (segment.Call is not { } call)
            return new TextContent(segment.Text);
        var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(call.ArgumentsJson, AIJsonUtilities.DefaultOptions);
        return new FunctionCallContent(NewId("call_"), call.Name, arguments);
    }

    /// <summary>A random identifier with <paramref name="prefix"/>.</summary>
    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(ChatClientMetadata))
            return _metadata;
        if (serviceType.IsInstanceOfType(this))
            return this;
        if (serviceType.IsInstanceOfType(Runner))
            return Runner;
        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsRunner)
            Runner.Dispose();
    }
}
