using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;
using EdgeLm.Runtime.Tests.KvCache;

namespace EdgeLm.Runtime.Tests.Architectures;

/// <summary>
/// A prompt's tokens attend in blocks of up to <see cref="ForwardState.AttentionTokens"/> (their queries meet each key
/// together, scores past a token's own position computed and masked). Every logit must still equal, bit for bit,
/// what evaluating the tokens one at a time gives: for both caches, grouped-query models, one and two threads, and
/// prompts fed in pieces that start blocks at odd positions.
/// </summary>
public class BatchedAttentionTests
{
    [Theory]
    [InlineData("llama", KvCacheType.F16, 1)]
    [InlineData("llama", KvCacheType.F16, 2)]
    [InlineData("qwen2", KvCacheType.F16, 2)]
    [InlineData("llama", KvCacheType.Q8_0, 2)]
    [InlineData("qwen2", KvCacheType.Q8_0, 1)]
    public void PromptBlocksGiveTheLogitsOfOneTokenAtATime(string arch, KvCacheType cacheType, int threads)
    {
        using var lm = LanguageModel.Load(QuantizedCacheTests.Synth(arch));
        int[] prompt = QuantizedCacheTests.Prompt(lm)[..45];
        int V = lm.HyperParameters.VocabularySize;
        var options = new SessionOptions { Threads = threads, ContextLength = 128, CacheType = cacheType };

        var single = lm.CreateSession(options);
        var expected = new float[prompt.Length * V];
        for (int t = 0; t < prompt.Length; t++)
            single.Evaluate(prompt.AsSpan(t, 1)).CopyTo(expected.AsSpan(t * V));

        // The whole prompt at once (blocks 0-15, 16-31, 32-44), then in pieces of 13, 1, 20 and 11 tokens.
        var whole = new float[prompt.Length * V];
        var session = lm.CreateSession(options);
        Assert.Equal(16, session.State.AttentionTokens);
        session.EvaluateAll(prompt, whole);
        AssertSame(expected, whole, V, "one batch");

        var pieces = new float[prompt.Length * V];
        var pieced = lm.CreateSession(options);
        int start = 0;
        foreach (int length in new[] { 13, 1, 20, 11 })
        {
            pieced.EvaluateAll(prompt.AsSpan(start, length), pieces.AsSpan(start * V, length * V));
            start += length;
        }
        AssertSame(expected, pieces, V, "pieces of 13, 1, 20, 11");
    }

    [Fact]
    public void BlocksShrinkSoScoresStayWithinTheirBudgetOnLongContexts()
    {
        using var lm = LanguageModel.Load(QuantizedCacheTests.Synth("llama"));
        var p = lm.HyperParameters; // 2 query heads per KV head
        Assert.Equal(16, ForwardState.AttentionTokensPerUnit(p, 512));
        Assert.Equal(8, ForwardState.AttentionTokensPerUnit(p, 4096));
        Assert.Equal(1, ForwardState.AttentionTokensPerUnit(p, 131072));
        foreach (int context in new[] { 1, 100, 2048, 5000, 40000, 1 << 20 })
        {
            int tokens = ForwardState.AttentionTokensPerUnit(p, context);
            long scores = (long)tokens * p.GroupSize * ((context + 7) & ~7);
            Assert.InRange(tokens, 1, 16);
            Assert.True(tokens == 1 || scores <= 64 << 10, $"context {context}: {tokens} tokens, {scores} scores");
        }
    }

    private static void AssertSame(float[] expected, float[] actual, int V, string how)
    {
        for (int t = 0; t < expected.Length / V; t++)
            Assert.True(expected.AsSpan(t * V, V).SequenceEqual(actual.AsSpan(t * V, V)), $"{how}: position {t} differs from one token at a time");
    }
}
