using EdgeLm.Compression.Evaluation;

namespace EdgeLm.Compression.Tests.Evaluation;

public class KlDivergenceStatisticsTests
{
    private const int Vocab = 3, Context = 8;

    /// <summary>Logits for a chunk where every position gives the distribution (p0, p1, p2) = softmax(row).</summary>
    private static float[] Constant(float[] row) => Enumerable.Range(0, Context).SelectMany(_ => row).ToArray();

    [Fact]
    public void IdenticalModelsDivergeByNothingAndAgreeEverywhere()
    {
        int[] tokens = Enumerable.Range(0, 3 * Context).Select(i => i % Vocab).ToArray();
        var logits = Constant([1f, 2f, 0.5f]);
        var r = KlDivergenceStatistics.Compute(tokens, Context, null, 0, _ => logits, _ => logits);
        Assert.Equal(0, r.Mean, 12);
        Assert.Equal(0, r.Maximum, 12);
        Assert.Equal(1.0, r.TopTokenAgreement);
        Assert.Equal(r.BasePerplexity, r.Perplexity);
        // Scored: positions n_ctx/2 .. n_ctx-2 of each of the 3 chunks, as perplexity scores them.
        Assert.Equal(3 * (Context - Context / 2 - 1), r.ScoredTokens);
    }

    /// <summary>Base (1/2, 1/4, 1/4) against candidate (1/4, 1/2, 1/4): KL = 1/2 ln 2 + 1/4 ln(1/2) = ln(2)/4 at every position.</summary>
    [Fact]
    public void AKnownPairOfDistributionsGivesItsDivergenceAndDisagreesOnTop()
    {
        int[] tokens = Enumerable.Range(0, 2 * Context).Select(i => i % Vocab).ToArray();
        var p = Constant([MathF.Log(2), 0, 0]);
        var q = Constant([0, MathF.Log(2), 0]);
        var r = KlDivergenceStatistics.Compute(tokens, Context, null, null, _ => p, _ => q);
        double expected = Math.Log(2) / 4;
        Assert.Equal(expected, r.Mean, 6);
        Assert.Equal(expected, r.Median, 6);
        Assert.Equal(expected, r.P99, 6);
        Assert.Equal(0, r.StandardError, 6);
        Assert.Equal(0.0, r.TopTokenAgreement);
    }

    /// <summary>One chunk in four diverges: the median is 0, the 90th percentile and the maximum are that chunk's divergence.</summary>
    [Fact]
    public void QuantilesFollowTheSortedDivergences()
    {
        int[] tokens = new int[4 * Context];
        var p = Constant([MathF.Log(2), 0, 0]);
        var q = Constant([0, MathF.Log(2), 0]);
        int calls = 0;
        var r = KlDivergenceStatistics.Compute(tokens, Context, null, null, _ => p, _ => calls++ % 4 == 3 ? q : p);
        Assert.Equal(Math.Log(2) / 16, r.Mean, 6);
        Assert.Equal(Math.Log(2) / 4, r.Maximum, 6);
        Assert.Equal(Math.Log(2) / 4, r.P90, 6);
        Assert.Equal(0, r.Median, 6);
        Assert.Equal(0.75, r.TopTokenAgreement);
        Assert.True(r.StandardError > 0);
    }

    [Fact]
    public void TooShortATextIsRefused() =>
        Assert.Throws<ArgumentException>(() => KlDivergenceStatistics.Compute(new int[Context], Context, null, null, _ => [], _ => []));
}
