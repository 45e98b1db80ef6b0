using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Sampling;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.Tests.AI;

public class EdgeLmChatClientTests(Stories260KFixture fixture) : IClassFixture<Stories260KFixture>
{
    private static readonly ChatMessage[] Story = [new(ChatRole.User, "Once upon a time")];
    private static ChatOptions Greedy(int max = 40) => new() { Temperature = 0, MaxOutputTokens = max };

    private EdgeLmChatClient Client(ModelRunnerOptions? options = null) => new(fixture.Model, options ?? new ModelRunnerOptions { Threads = 1 });

    [Fact]
    public async Task Greedy_reply_is_the_generation_after_the_chatml_prompt()
    {
        using var client = Client();
        var response = await client.GetResponseAsync(Story, Greedy());

        // Independently: BOS + the ChatML text, generated greedily in a fresh session.
        var tokenizer = fixture.Model.Tokenizer;
        int[] prompt = [tokenizer.BosId, .. tokenizer.Encode("<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n", addSpecial: false)];
        Assert.Equal(prompt, client.Runner.PrepareChat(Story, Greedy()).PromptTokens);
        var session = fixture.Model.CreateSession(new SessionOptions { Threads = 1 });
        var direct = Generator.Generate(session, prompt,
            new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy, StopSequences = ["<|im_end|>"] });

        Assert.Equal(direct.Text, response.Text);
        Assert.NotEmpty(response.Text);
        Assert.Equal(prompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(direct.Tokens.Length, response.Usage.OutputTokenCount);
        Assert.Equal(direct.StopReason == StopReason.MaxTokens ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("stories260K", response.ModelId);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
    }

    [Fact]
    public async Task Streaming_pieces_add_up_to_the_whole_reply()
    {
        using var client = Client();
        var whole = await client.GetResponseAsync(Story, Greedy());
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Story, Greedy()))
            updates.Add(update);
        Assert.True(updates.Count > 3);
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
    }

    [Fact]
    public async Task Limits_stops_and_seeds_are_honoured()
    {
        using var client = Client();
        var five = await client.GetResponseAsync(Story, Greedy(5));
        Assert.Equal(5, five.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, five.FinishReason);

        string full = (await client.GetResponseAsync(Story, Greedy())).Text;
        string[] words = full.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string stop = words[words.Length / 2];
        var stopped = await client.GetResponseAsync(Story, new ChatOptions { Temperature = 0, MaxOutputTokens = 40, StopSequences = [stop] });
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        // llama.cpp's min-p and repetition penalty ride in AdditionalProperties; a strong penalty changes greedy text.
        var penalised = await client.GetResponseAsync(Story, new ChatOptions
        {
            Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = new() { [ModelRunner.RepeatPenaltyKey] = 3.0f },
        });
        Assert.NotEqual(full, penalised.Text);
        var badMinP = await Assert.ThrowsAsync<InvalidChatRequestException>(() => client.GetResponseAsync(Story,
            new ChatOptions { AdditionalProperties = new() { [ModelRunner.MinPKey] = 2.0 } }));
        Assert.Equal("min_p", badMinP.Parameter);

        ChatOptions Seeded(long seed) => new() { Temperature = 1.2f, TopK = 0, TopP = 1, Seed = seed, MaxOutputTokens = 30 };
        string a = (await client.GetResponseAsync(Story, Seeded(1))).Text;
        Assert.Equal(a, (await client.GetResponseAsync(Story, Seeded(1))).Text);
        var others = new List<string>();
        for (long seed = 2; seed < 6; seed++)
            others.Add((await client.GetResponseAsync(Story, Seeded(seed))).Text);
        Assert.Contains(others, o => o != a);
    }

    [Fact]
    public async Task Bad_options_and_long_prompts_are_refused_before_generating()
    {
        using var client = Client(new ModelRunnerOptions { Threads = 1, ContextLength = 64 });
        var tooMany = await Assert.ThrowsAsync<InvalidChatRequestException>(() => client.GetResponseAsync(Story, Greedy(60)));
        Assert.Equal("max_tokens", tooMany.Parameter);
        var zero = await Assert.ThrowsAsync<InvalidChatRequestException>(() => client.GetResponseAsync(Story, Greedy(0)));
        Assert.Equal("max_tokens", zero.Parameter);
        var topP = await Assert.ThrowsAsync<InvalidChatRequestException>(() => client.GetResponseAsync(Story, new ChatOptions { TopP = 0 }));
        Assert.Equal("top_p", topP.Parameter);
        var overflow = await Assert.ThrowsAsync<ContextOverflowException>(() =>
            client.GetResponseAsync([new(ChatRole.User, string.Concat(Enumerable.Repeat("the big dog ran home. ", 30)))]));
        Assert.Equal(64, overflow.Capacity);
        Assert.Equal(0, client.Runner.Statistics.Generations);

        // Without a limit, a reply may use the rest of the context and no more.
        var rest = await client.GetResponseAsync(Story, new ChatOptions { Temperature = 0 });
        Assert.True(rest.Usage!.InputTokenCount + rest.Usage.OutputTokenCount <= 64);
    }

    [Fact]
    public async Task Cancelling_a_stream_frees_its_session()
    {
        using var client = Client(new ModelRunnerOptions { Threads = 1, Sessions = 1 });
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Story, new ChatOptions { Temperature = 0 }, cancel.Token))
            {
                if (++seen == 2)
                    await cancel.CancelAsync();
            }
        });
        Assert.Equal(0, client.Runner.Sessions.Busy);
        // The one session serves the next request.
        var next = await client.GetResponseAsync(Story, Greedy(3));
        Assert.Equal(3, next.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Concurrent_requests_share_the_pool_and_match_sequential_output()
    {
        using var client = Client(new ModelRunnerOptions { Threads = 1, Sessions = 2, QueueLimit = 8 });
        string expected = (await client.GetResponseAsync(Story, Greedy(20))).Text;
        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.GetResponseAsync(Story, Greedy(20))));
        Assert.All(replies, r => Assert.Equal(expected, r.Text));
        Assert.Equal(0, client.Runner.Sessions.Busy);
        Assert.Equal(7, client.Runner.Statistics.Generations);
    }

    [Fact]
    public async Task A_full_queue_refuses_new_requests()
    {
        using var client = Client(new ModelRunnerOptions { Threads = 1, Sessions = 1, QueueLimit = 0 });
        using var lease = await client.Runner.Sessions.AcquireAsync();
        await Assert.ThrowsAsync<SessionPoolFullException>(() => client.GetResponseAsync(Story, Greedy(3)));
    }

    [Fact]
    public async Task Streamed_tool_calls_from_a_plugged_in_constraint_arrive_as_function_call_content()
    {
        var provider = new ForcedTextProvider(fixture.Model.Tokenizer,
            c => c.Prefix + "{\"name\": \"lamp\", \"arguments\": {\"on\": true}}" + c.Suffix);
        using var client = Client(new ModelRunnerOptions { Threads = 1, Constraints = provider });
        var tool = AIFunctionFactory.Create((bool on) => on, "lamp");
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new(ChatRole.User, "Light on")],
                           new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.RequireSpecific("lamp"), MaxOutputTokens = 100 }))
            updates.Add(u);
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("lamp", call.Name);
        Assert.Equal("True", call.Arguments!["on"]!.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
        Assert.Equal("", string.Concat(updates.Select(u => u.Text)).Trim());

        await Assert.ThrowsAsync<InvalidChatRequestException>(() => client.GetResponseAsync([new(ChatRole.User, "x")],
            new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.RequireSpecific("missing") }));
    }

    [Fact]
    public void Metadata_and_services_are_exposed()
    {
        using var client = Client();
        var metadata = client.GetService<ChatClientMetadata>();
        Assert.Equal("edgelm", metadata!.ProviderName);
        Assert.Equal("stories260K", metadata.DefaultModelId);
        Assert.Same(client.Runner, client.GetService<ModelRunner>());
        Assert.True(client.Runner.UsesDefaultChatTemplate);
    }
}
