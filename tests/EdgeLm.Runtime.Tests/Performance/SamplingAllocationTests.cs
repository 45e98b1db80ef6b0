using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Sampling;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Runtime.Tests.Performance;

/// <summary>
/// A whole decode step as a generation loop runs it (sample from the last logits with the full sampler chain, look
/// the token's bytes up, evaluate it) allocates nothing managed on the calling thread once warm.
/// </summary>
[Collection(AllocationCollection.Name)]
public class SamplingAllocationTests(ITestOutputHelper log)
{
    public static TheoryData<string, float> Chains => new()
    {
        { "greedy", 0f },
        { "top-k/top-p/min-p/temperature + penalties", 0.8f },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void SampleAndEvaluateAllocateNothingOnceWarm(string chain, float temperature)
    {
        using var lm = LanguageModel.Load(RepoPaths.Stories260K);
        var session = lm.CreateSession(new SessionOptions { Threads = 1, ContextLength = 256 });
        var sampler = SamplerChain.Create(lm.HyperParameters.VocabularySize, new SamplingOptions
        {
            Temperature = temperature, RepeatPenalty = 1.1f, FrequencyPenalty = 0.2f, PresencePenalty = 0.1f, Seed = 5,
            LogitBias = new Dictionary<int, float> { [lm.Tokenizer.EosId] = float.NegativeInfinity },
        });
        var tokenizer = lm.Tokenizer;
        long bytes = 0;
        int token = tokenizer.BosId;
        void Step()
        {
            session.Evaluate([token]);
            token = sampler.Sample(session.LastLogits);
            bytes += tokenizer.TokenBytesSpan(token).Length;
        }

        for (int i = 0; i < 100; i++)
            Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        log.WriteLine($"{chain}: 100 sample+evaluate steps allocated {allocated} bytes ({bytes} bytes of text)");
        Assert.Equal(200, session.Position);
        Assert.True(bytes > 0);
        Assert.True(allocated == 0, $"{chain}: 100 decode steps allocated {allocated} bytes on the calling thread");
    }
}
