using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.Tests.Sampling;

/// <summary>Samplers on small vocabularies whose results can be worked out by hand.</summary>
public class SamplerTests
{
    // Logits ln(p) for probabilities 0.1, 0.2, 0.3, 0.4: softmax gives the probabilities back.
    private static readonly float[] FourTokens = [MathF.Log(0.1f), MathF.Log(0.2f), MathF.Log(0.3f), MathF.Log(0.4f)];

    private static (int[] Ids, float[] Probabilities) Run(ISampler sampler, float[] logits)
    {
        var list = new CandidateList(logits.Length);
        list.Reset(logits);
        sampler.Apply(list);
        list.Sort();
        list.ComputeProbabilities();
        return (list.Ids.ToArray(), list.Probabilities.ToArray());
    }

    [Theory]
    [InlineData(1, new[] { 3 })]
    [InlineData(3, new[] { 3, 2, 1 })]
    [InlineData(0, new[] { 3, 2, 1, 0 })]
    [InlineData(10, new[] { 3, 2, 1, 0 })]
    public void TopKKeepsTheKMostLikely(int k, int[] expected) =>
        Assert.Equal(expected, Run(new TopKSampler(k), FourTokens).Ids);

    [Fact]
    public void TopKRenormalisesTheSurvivors()
    {
        var (_, p) = Run(new TopKSampler(2), FourTokens);
        Assert.Equal(4f / 7f, p[0], 5);
        Assert.Equal(3f / 7f, p[1], 5);
    }

    [Theory]
    [InlineData(0.001f, new[] { 3 })]
    [InlineData(0.35f, new[] { 3 })]
    [InlineData(0.5f, new[] { 3, 2 })]
    [InlineData(0.65f, new[] { 3, 2 })]
    [InlineData(0.75f, new[] { 3, 2, 1 })]
    [InlineData(0.95f, new[] { 3, 2, 1, 0 })]
    [InlineData(1.0f, new[] { 3, 2, 1, 0 })]
    public void TopPKeepsTheSmallestSetReachingP(float p, int[] expected) =>
        Assert.Equal(expected, Run(new TopPSampler(p), FourTokens).Ids);

    [Theory]
    [InlineData(0.0f, new[] { 3, 2, 1, 0 })]
    [InlineData(0.24f, new[] { 3, 2, 1, 0 })]
    [InlineData(0.26f, new[] { 3, 2, 1 })]
    [InlineData(0.45f, new[] { 3, 2, 1 })]
    [InlineData(0.76f, new[] { 3 })]
    [InlineData(1.0f, new[] { 3 })]
    public void MinPKeepsTokensAboveAFractionOfTheBest(float p, int[] expected) =>
        Assert.Equal(expected, Run(new MinPSampler(p), FourTokens).Ids);

    [Fact]
    public void TemperatureSharpensAndFlattens()
    {
        var (_, cold) = Run(new TemperatureSampler(0.5f), FourTokens);
        var (_, hot) = Run(new TemperatureSampler(2f), FourTokens);
        // At T = 0.5 probabilities go as p^2: 16/30 for the best; at T = 2 as sqrt(p).
        Assert.Equal(16f / 30f, cold[0], 5);
        double sqrtSum = Math.Sqrt(0.1) + Math.Sqrt(0.2) + Math.Sqrt(0.3) + Math.Sqrt(0.4);
        Assert.Equal((float)(Math.Sqrt(0.4) / sqrtSum), hot[0], 5);
    }

    [Fact]
    public void ZeroTemperatureKeepsOnlyTheBest() =>
        Assert.Equal([3], Run(new TemperatureSampler(0f), FourTokens).Ids);

    [Fact]
    public void PenaltiesFollowLlamaCppRules()
    {
        float[] logits = [2f, -2f, 1f, 0.5f];
        var penalty = new PenaltySampler(lastN: 4, repeat: 2f, frequency: 0.1f, presence: 0.25f);
        penalty.Accept(0);
        penalty.Accept(1);
        penalty.Accept(0);
        var list = new CandidateList(4);
        list.Reset(logits);
        penalty.Apply(list);
        // Token 0 seen twice (positive logit divided), token 1 once (negative logit multiplied), others untouched.
        Assert.Equal(2f / 2f - (2 * 0.1f + 0.25f), list.Logits[0], 6);
        Assert.Equal(-2f * 2f - (1 * 0.1f + 0.25f), list.Logits[1], 6);
        Assert.Equal(1f, list.Logits[2]);
        Assert.Equal(0.5f, list.Logits[3]);
    }

    [Fact]
    public void PenaltyWindowForgetsOldTokens()
    {
        var penalty = new PenaltySampler(lastN: 2, repeat: 2f, frequency: 0f, presence: 0f);
        penalty.Accept(0);
        penalty.Accept(1);
        penalty.Accept(2); // pushes token 0 out of the window
        var list = new CandidateList(3);
        list.Reset([1f, 1f, 1f]);
        penalty.Apply(list);
        Assert.Equal([1f, 0.5f, 0.5f], list.Logits.ToArray());
    }

    [Fact]
    public void GreedyChainPicksTheArgmaxLowestIdOnTies()
    {
        var chain = SamplerChain.Create(4, SamplingOptions.Greedy);
        Assert.Equal(3, chain.Sample(FourTokens));
        Assert.Equal(1, chain.Sample([0f, 5f, 5f, 1f]));
    }

    [Fact]
    public void SeededChainsRepeatAndDifferentSeedsDiffer()
    {
        float[] flat = Enumerable.Range(0, 50).Select(i => MathF.Sin(i) * 0.1f).ToArray();
        var options = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 42 };
        int[] Draw(SamplingOptions o)
        {
            var chain = SamplerChain.Create(flat.Length, o);
            return Enumerable.Range(0, 40).Select(_ => chain.Sample(flat)).ToArray();
        }
        int[] first = Draw(options);
        Assert.Equal(first, Draw(options));
        Assert.NotEqual(first, Draw(options with { Seed = 43 }));
        Assert.True(first.Distinct().Count() > 10, "a near-uniform distribution should give varied draws");
    }

    [Fact]
    public void ResetRestartsTheRandomDrawFromTheSeed()
    {
        float[] flat = Enumerable.Range(0, 50).Select(i => MathF.Cos(i) * 0.1f).ToArray();
        var chain = SamplerChain.Create(flat.Length, new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 9 });
        int[] first = Enumerable.Range(0, 10).Select(_ => chain.Sample(flat)).ToArray();
        chain.Reset();
        Assert.Equal(first, Enumerable.Range(0, 10).Select(_ => chain.Sample(flat)));
    }

    [Fact]
    public void DrawFrequenciesFollowTheDistribution()
    {
        var chain = SamplerChain.Create(4, new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 7 });
        var counts = new int[4];
        const int n = 20000;
        for (int i = 0; i < n; i++)
            counts[chain.Sample(FourTokens)]++;
        for (int t = 0; t < 4; t++)
            Assert.InRange(counts[t] / (double)n, (t + 1) * 0.1 - 0.015, (t + 1) * 0.1 + 0.015);
    }

    [Theory]
    [InlineData(float.NaN, 40, 0.95f, 0.05f, 1f)]
    [InlineData(0.8f, -1, 0.95f, 0.05f, 1f)]
    [InlineData(0.8f, 40, 0f, 0.05f, 1f)]
    [InlineData(0.8f, 40, 1.5f, 0.05f, 1f)]
    [InlineData(0.8f, 40, 0.95f, -0.1f, 1f)]
    [InlineData(0.8f, 40, 0.95f, 0.05f, 0f)]
    public void InvalidOptionsAreRefusedByName(float temp, int topK, float topP, float minP, float repeat)
    {
        var options = new SamplingOptions { Temperature = temp, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = repeat };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.False(string.IsNullOrEmpty(e.ParamName));
    }
}
