using EdgeLm.Compression.Evaluation;

namespace EdgeLm.Compression.Tests.Evaluation;

public class PerplexityTests
{
    /// <summary>A "model" whose logits give the next token probability p everywhere: perplexity must be 1/p.</summary>
    [Fact]
    public void AModelThatAlwaysGivesTheNextTokenProbabilityPHasPerplexityOneOverP()
    {
        const int vocab = 4, context = 8;
        int[] tokens = Enumerable.Range(0, 3 * context + 5).Select(i => i % vocab).ToArray();
        var seenChunks = new List<int[]>();
        var result = Perplexity.Compute(tokens, context, null, bosId: 3, chunk =>
        {
            seenChunks.Add((int[])chunk.Clone());
            var logits = new float[context * vocab];
            // The true next token gets logit ln(3) against 0 for the other three: probability 3/6 = 0.5.
            int start = (seenChunks.Count - 1) * context;
            for (int j = 0; j < context - 1; j++)
                logits[j * vocab + tokens[start + j + 1]] = MathF.Log(3f);
            return logits;
        });
        Assert.Equal(2.0, result.Value, 5);
        Assert.Equal(3, result.Chunks);
        // Scored: positions n_ctx/2 .. n_ctx-2 of each chunk.
        Assert.Equal(3 * (context - context / 2 - 1), result.ScoredTokens);
        // Each chunk starts with BOS in place of its first token, and chunks do not overlap.
        Assert.All(seenChunks, c => Assert.Equal(3, c[0]));
        Assert.Equal(tokens[(context + 1)..(2 * context)], seenChunks[1][1..]);
    }

    [Fact]
    public void ChunksAreLimitedOnRequest()
    {
        int[] tokens = new int[100];
        var result = Perplexity.Compute(tokens, 10, maxChunks: 4, bosId: null, _ => new float[10 * 2]);
        Assert.Equal(4, result.Chunks);
        Assert.Equal(2.0, result.Value, 6); // uniform over two tokens
    }

    [Fact]
    public void ATextShorterThanTwoContextsIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Perplexity.Compute(new int[15], 8, null, null, _ => new float[16]));
        Assert.Contains("16", e.Message);
    }

    [Fact]
    public void LogSoftmaxIsStableForLargeLogits() =>
        Assert.Equal(Math.Log(0.5), Perplexity.LogSoftmaxAt([1000f, 1000f], 0), 9);
}

public class KlDivergenceTests
{
    [Fact]
    public void MatchesAHandComputedValue()
    {
        // P = (1/4, 3/4), Q = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2).
        double expected = 0.25 * Math.Log(0.5) + 0.75 * Math.Log(1.5);
        Assert.Equal(expected, KlDivergence.Compute([0f, MathF.Log(3)], [5f, 5f]), 6);
    }

    [Fact]
    public void IsZeroForShiftedLogitsAndPositiveOtherwise()
    {
        Assert.Equal(0, KlDivergence.Compute([1f, 2f, 3f], [11f, 12f, 13f]), 9);
        Assert.True(KlDivergence.Compute([1f, 2f, 3f], [3f, 2f, 1f]) > 0.1);
    }

    [Fact]
    public void RowsOfDifferentLengthsAreRefused() =>
        Assert.Throws<ArgumentException>(() => KlDivergence.Compute([1f], [1f, 2f]));
}
