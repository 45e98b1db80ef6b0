using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.Tests.Sampling;

/// <summary>OpenAI's logit_bias: added before everything else, -infinity bans, any candidate order works.</summary>
public class LogitBiasSamplerTests
{
    private static readonly float[] Logits = [1f, 4f, 3f, 2f, 0f];

    [Fact]
    public void BiasIsAddedToTheNamedTokensOnAFreshList()
    {
        var list = new CandidateList(Logits.Length);
        list.Reset(Logits);
        new LogitBiasSampler(Logits.Length, new Dictionary<int, float> { [0] = 10f, [3] = -1.5f }).Apply(list);
        Assert.Equal([11f, 4f, 3f, 0.5f, 0f], list.Logits.ToArray());
    }

    [Fact]
    public void BiasFollowsTheIdsOfAReorderedList()
    {
        var list = new CandidateList(Logits.Length);
        list.Reset(Logits);
        list.Sort(); // ids 1, 2, 3, 0, 4
        new LogitBiasSampler(Logits.Length, new Dictionary<int, float> { [0] = 10f, [3] = -1.5f }).Apply(list);
        var byId = new Dictionary<int, float>();
        for (int i = 0; i < list.Count; i++)
            byId[list.Ids[i]] = list.Logits[i];
        Assert.Equal(11f, byId[0]);
        Assert.Equal(0.5f, byId[3]);
        Assert.Equal(4f, byId[1]);
    }

    [Fact]
    public void NegativeInfinityBansTheGreedyChoice()
    {
        var options = SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [1] = float.NegativeInfinity } };
        var chain = SamplerChain.Create(Logits.Length, options);
        Assert.Equal(2, chain.Sample(Logits));
        var free = SamplerChain.Create(Logits.Length, SamplingOptions.Greedy);
        Assert.Equal(1, free.Sample(Logits));
    }

    [Fact]
    public void BannedTokenIsNeverDrawn()
    {
        var options = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 7,
            LogitBias = new Dictionary<int, float> { [1] = float.NegativeInfinity, [2] = float.NegativeInfinity } };
        var chain = SamplerChain.Create(Logits.Length, options);
        var seen = new HashSet<int>();
        for (int i = 0; i < 500; i++)
            seen.Add(chain.Sample(Logits));
        Assert.DoesNotContain(1, seen);
        Assert.DoesNotContain(2, seen);
        Assert.Equal(3, seen.Count);
    }

    [Theory]
    [InlineData(5, 1f)]
    [InlineData(-1, 1f)]
    [InlineData(0, float.NaN)]
    [InlineData(0, float.PositiveInfinity)]
    public void BadBiasIsRefused(int token, float bias)
    {
        var options = SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [token] = bias } };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SamplerChain.Create(Logits.Length, options));
        Assert.Contains("bias", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
