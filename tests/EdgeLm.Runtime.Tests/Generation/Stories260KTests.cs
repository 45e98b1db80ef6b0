using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Sampling;
using EdgeLm.Testing;

namespace EdgeLm.Runtime.Tests.Generation;

/// <summary>The bundled real model, stories260K, end to end through the library.</summary>
public class Stories260KTests
{
    private static LanguageModel Load() => LanguageModel.Load(RepoPaths.Stories260K);

    [Fact]
    public void HyperParametersComeFromTheGgufKeys()
    {
        using var lm = Load();
        var p = lm.HyperParameters;
        Assert.Equal("llama", p.Architecture);
        Assert.Equal(64, p.EmbeddingLength);
        Assert.Equal(5, p.BlockCount);
        Assert.Equal(8, p.HeadCount);
        Assert.Equal(4, p.KeyValueHeadCount);
        Assert.Equal(8, p.HeadDimension);
        Assert.Equal(172, p.FeedForwardLength);
        Assert.Equal(512, p.VocabularySize);
        Assert.Equal(RopeStyle.Normal, p.RopeStyle);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GreedyDecodeFromBosMatchesTheGoldenFile(int threads)
    {
        using var lm = Load();
        var session = lm.CreateSession(new SessionOptions { Threads = threads, ContextLength = 512 });
        var result = Generator.Generate(session, [lm.Tokenizer.BosId], new GenerationOptions { MaxTokens = 64, Sampling = SamplingOptions.Greedy });
        Assert.Equal(1, lm.Tokenizer.BosId);
        Assert.Equal(Golden.Stories260KTokens, result.Tokens);
        Assert.Equal(Golden.Stories260KText, result.Text);
        Assert.Equal(StopReason.MaxTokens, result.StopReason);
    }

    [Fact]
    public void StreamingYieldsTheSameTokensAsTheBlockingCall()
    {
        using var lm = Load();
        var options = new GenerationOptions { MaxTokens = 24, Sampling = new SamplingOptions { Temperature = 0.9f, Seed = 11 } };
        int[] prompt = lm.Tokenizer.Encode("Once upon a time", addSpecial: true, parseSpecial: false);
        var blocking = Generator.Generate(lm.CreateSession(), prompt, options);
        var streamed = Generator.GenerateAsync(lm.CreateSession(), prompt, options).ToBlockingEnumerable().ToList();
        Assert.Equal(blocking.Tokens, streamed.Where(t => t.Id >= 0).Select(t => t.Id));
        Assert.Equal(blocking.Text, string.Concat(streamed.Select(t => t.Text)));
    }

    [Fact]
    public void TheSameSeedGivesTheSameTextAndAnotherSeedAnother()
    {
        using var lm = Load();
        int[] prompt = lm.Tokenizer.Encode("Lily", addSpecial: true, parseSpecial: false);
        string Sample(ulong seed) => Generator.Generate(lm.CreateSession(), prompt,
            new GenerationOptions { MaxTokens = 40, Sampling = new SamplingOptions { Temperature = 1.2f, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed } }).Text;
        Assert.Equal(Sample(1), Sample(1));
        Assert.NotEqual(Sample(1), Sample(2));
    }

    [Fact]
    public void StopSequenceEndsGenerationAndIsNotReturned()
    {
        using var lm = Load();
        // The golden text contains "Lily." early; stop on it.
        var result = Generator.Generate(lm.CreateSession(), [lm.Tokenizer.BosId],
            new GenerationOptions { MaxTokens = 64, Sampling = SamplingOptions.Greedy, StopSequences = ["Lily."] });
        Assert.Equal(StopReason.StopSequence, result.StopReason);
        Assert.Equal("Once upon a time, there was a little girl named ", result.Text);
        Assert.True(result.Tokens.Length < 64);
    }

    [Fact]
    public void APromptLongerThanTheContextIsRefusedNotTruncated()
    {
        using var lm = Load();
        var session = lm.CreateSession(new SessionOptions { ContextLength = 16 });
        int[] prompt = Enumerable.Repeat(lm.Tokenizer.BosId, 17).ToArray();
        var e = Assert.Throws<ContextOverflowException>(() => Generator.Generate(session, prompt, new GenerationOptions { MaxTokens = 1 }));
        Assert.Equal(17, e.Requested);
        Assert.Equal(16, e.Capacity);
        Assert.Equal(0, session.Position);
    }

    [Fact]
    public void GenerationStopsWhenTheContextIsFull()
    {
        using var lm = Load();
        var session = lm.CreateSession(new SessionOptions { ContextLength = 8 });
        var result = Generator.Generate(session, [lm.Tokenizer.BosId], new GenerationOptions { MaxTokens = 100, Sampling = SamplingOptions.Greedy });
        Assert.Equal(StopReason.ContextFull, result.StopReason);
        Assert.Equal(Golden.Stories260KTokens[..8], result.Tokens);
    }

    [Fact]
    public void CancellationStopsTheStream()
    {
        using var lm = Load();
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => Generator.Generate(lm.CreateSession(), [lm.Tokenizer.BosId],
            new GenerationOptions { MaxTokens = 64, Sampling = SamplingOptions.Greedy },
            _ =>
            {
                if (++seen == 5)
                    cts.Cancel();
            },
            cts.Token));
        Assert.Equal(5, seen);
    }

    [Fact]
    public void BatchedPromptEvaluationEqualsTokenByToken()
    {
        using var lm = Load();
        int[] prompt = Golden.Stories260KTokens[..40];
        var batched = lm.CreateSession(new SessionOptions { BatchSize = 16 });
        float[] a = batched.Evaluate(prompt).ToArray();
        var single = lm.CreateSession(new SessionOptions { BatchSize = 1 });
        float[] b = single.Evaluate(prompt).ToArray();
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a[i], b[i], 4);
    }

    [Fact]
    public void TraceHookNamesEveryIntermediateOfEveryBlock()
    {
        using var lm = Load();
        var session = lm.CreateSession();
        var seen = new List<(string Name, int Block, int Values)>();
        session.Trace = (name, block, values, tokens) => seen.Add((name, block, values.Length / tokens));
        session.Evaluate([1, 403, 407]);
        foreach (string name in new[] { "attn_norm", "Qcur", "Kcur", "Vcur", "kqv_out", "ffn_inp", "ffn_norm", "ffn_out", "l_out" })
            Assert.Equal(Enumerable.Range(0, 5), seen.Where(s => s.Name == name).Select(s => s.Block));
        Assert.Contains(seen, s => s is { Name: "Kcur", Values: 32 });
        Assert.Contains(seen, s => s is { Name: "result_output", Block: -1, Values: 512 });
    }
}
