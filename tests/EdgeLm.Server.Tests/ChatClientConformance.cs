using System.Text.Json;
using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Grammar.Json;
using Microsoft.Extensions.AI;
using OpenAI;

namespace EdgeLm.Server.Tests;

/// <summary>
/// One IChatClient test suite, run against the in-process <see cref="EdgeLmChatClient"/> and against the HTTP server
/// through Microsoft.Extensions.AI.OpenAI: both must give the model's own output for the same options.
/// </summary>
public abstract class ChatClientConformance(ServerFixture server)
{
    private static readonly ChatMessage[] Story = [new(ChatRole.User, "Tell me a story about a cat.")];

    protected ServerFixture Server { get; } = server;

    protected abstract IChatClient CreateClient();

    /// <summary>What the model generates for <paramref name="messages"/>, run directly in a fresh session.</summary>
    private GenerationResult Reference(ChatMessage[] messages, ChatOptions options)
    {
        var plan = Server.Runner.PrepareChat(messages, options);
        var session = Server.Runner.Model.CreateSession(new SessionOptions { Threads = 1, ContextLength = ServerFixture.ContextLength });
        return Generator.Generate(session, plan.PromptTokens, plan.Options);
    }

    [Fact]
    public async Task Greedy_replies_are_the_models_output()
    {
        using var client = CreateClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 24 };
        var expected = Reference(Story, options);
        var response = await client.GetResponseAsync(Story, options);
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(expected.PromptTokens.Length, response.Usage!.InputTokenCount);
        Assert.Equal(expected.Tokens.Length, response.Usage.OutputTokenCount);
        Assert.Equal(EdgeLmChatClient.FinishReason(expected.StopReason, false), response.FinishReason);
    }

    [Fact]
    public async Task Streamed_replies_add_up_to_the_whole_one()
    {
        using var client = CreateClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 16 };
        string whole = (await client.GetResponseAsync(Story, options)).Text;
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Story, options))
            updates.Add(update);
        Assert.True(updates.Count(u => u.Text.Length > 0) > 2, "the reply came in one piece");
        Assert.Equal(whole, string.Concat(updates.Select(u => u.Text)));
        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Length);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single().Details;
        Assert.Equal(16, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Stop_sequences_and_seeds_are_honoured()
    {
        using var client = CreateClient();
        string full = (await client.GetResponseAsync(Story, new ChatOptions { Temperature = 0, MaxOutputTokens = 24 })).Text;
        string stop = full.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        var stopped = await client.GetResponseAsync(Story, new ChatOptions { Temperature = 0, MaxOutputTokens = 24, StopSequences = [stop] });
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        var seeded = new ChatOptions { Temperature = 1.0f, TopP = 1, Seed = 1234, MaxOutputTokens = 16 };
        var expected = Reference(Story, seeded);
        Assert.Equal(expected.Text, (await client.GetResponseAsync(Story, seeded)).Text);
    }

    [Fact]
    public async Task Json_schema_replies_validate()
    {
        using var client = CreateClient();
        // Only keywords OpenAI's strict mode keeps: Microsoft.Extensions.AI.OpenAI moves others (minimum, maxLength, ...)
        // into descriptions before sending, so the server would rightly not enforce them.
        using var schema = JsonDocument.Parse("""
            {"type": "object", "properties": {"mood": {"enum": ["happy", "sad", "sleepy"]}, "pet": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}}},
             "required": ["mood", "pet", "tags"], "additionalProperties": false}
            """);
        var response = await client.GetResponseAsync(Story, new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "review"),
            Temperature = 0.8f,
            Seed = 3,
            MaxOutputTokens = 80,
        });
        using var reply = JsonDocument.Parse(response.Text);
        Assert.Empty(JsonSchemaValidator.Validate(schema.RootElement, reply.RootElement));
    }

    [Fact]
    public async Task Tool_calls_round_trip_under_function_invocation()
    {
        var levels = new List<int>();
        var tool = AIFunctionFactory.Create((int level) => { levels.Add(level); return "ok"; }, "dim", "Dim the lights");
        using var client = CreateClient().AsBuilder().UseFunctionInvocation().Build();
        var response = await client.GetResponseAsync([new(ChatRole.User, "Dim")],
            new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.RequireAny, Temperature = 0.5f, Seed = 9, MaxOutputTokens = 60 });
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("dim", call.Name);
        Assert.Single(levels);
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.Empty(response.Messages[^1].Contents.OfType<FunctionCallContent>());
    }
}

[Collection("server")]
public sealed class InProcessChatClientTests(ServerFixture server) : ChatClientConformance(server)
{
    protected override IChatClient CreateClient() => new EdgeLmChatClient(Server.Runner);
}

[Collection("server")]
public sealed class HttpChatClientTests(ServerFixture server) : ChatClientConformance(server)
{
    protected override IChatClient CreateClient() => Server.OpenAI.GetChatClient(Server.Runner.ModelId).AsIChatClient();

    [Fact]
    public async Task Embedding_generators_agree_in_process_and_over_http()
    {
        using var http = Server.OpenAI.GetEmbeddingClient(Server.Runner.ModelId).AsIEmbeddingGenerator();
        using var local = new EdgeLmEmbeddingGenerator(Server.Runner);
        string[] texts = ["A dog ran in the park.", "The sun was hot."];
        var remote = await http.GenerateAsync(texts);
        var near = await local.GenerateAsync(texts);
        Assert.Equal(2, remote.Count);
        for (int i = 0; i < texts.Length; i++)
            Assert.Equal(near[i].Vector.ToArray(), remote[i].Vector.ToArray());
    }
}
