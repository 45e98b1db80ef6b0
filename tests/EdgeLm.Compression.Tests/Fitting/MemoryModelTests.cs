using EdgeLm.Compression.Fitting;
using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Fitting;

public class MemoryModelTests(FitFixture fixture) : IClassFixture<FitFixture>
{
    /// <summary>
    /// The estimate holds what the runtime really allocates: the KV cache exactly, and (measured as managed allocations
    /// on this thread) loading within the tokenizer estimate and a session plus a prompt and some decoding within KV +
    /// activations + logits. Checked on a 512-token and a 32000-token vocabulary.
    /// </summary>
    [Theory]
    [InlineData("stories260K", 256, KvCacheType.F16)]
    [InlineData("stories260K", 40, KvCacheType.F16)]
    [InlineData("llama8", 256, KvCacheType.F16)]
    [InlineData("llama8", 200, KvCacheType.Q8_0)]
    [InlineData("spm", 200, KvCacheType.F16)]
    public void EstimatesCoverWhatTheRuntimeAllocates(string name, int context, KvCacheType cacheType)
    {
        string path = name == "spm" ? SpmModel() : fixture.Model(name);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var model = LanguageModel.Load(path);
        long loaded = GC.GetAllocatedBytesForCurrentThread() - before;
        var p = model.HyperParameters;
        Assert.True(loaded <= MemoryModel.TokenizerBytes(p, model.File.DataOffset), $"loading allocated {loaded} > {MemoryModel.TokenizerBytes(p, model.File.DataOffset)}");

        var prompt = model.Tokenizer.Encode("Once upon a time there was a little girl who liked to play in the park with her friends.", addSpecial: true, parseSpecial: false);
        // A first session pays the process's one-time costs (static tables, first-use JIT): those belong to the margin.
        model.CreateSession(new SessionOptions { ContextLength = 16, Threads = FitFixture.Threads, CacheType = cacheType }).Evaluate(prompt.AsSpan(0, 8));
        before = GC.GetAllocatedBytesForCurrentThread();
        var session = model.CreateSession(new SessionOptions { ContextLength = context, Threads = FitFixture.Threads, CacheType = cacheType });
        session.Evaluate(prompt.AsSpan(0, Math.Min(prompt.Length, context - 8)));
        for (int i = 0; i < 4; i++)
            session.Evaluate([3]);
        long used = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(session.Cache.ByteSize, MemoryModel.KvCacheBytes(p, context, cacheType));
        long estimate = MemoryModel.KvCacheBytes(p, context, cacheType) + MemoryModel.ActivationBytes(p, context, FitFixture.Threads) + MemoryModel.LogitsBytes(p);
        Assert.True(used <= estimate, $"the session allocated {used} > {estimate}");

        var whole = MemoryModel.ForFile(path, context, FitFixture.Threads, margin: 1000, cacheType: cacheType);
        Assert.Equal(new FileInfo(path).Length, whole.Weights);
        Assert.Equal(whole.Weights + whole.KvCache + whole.Activations + whole.Logits + whole.Tokenizer + 1000, whole.Total);
    }

    [Fact]
    public void KvCacheFollowsTheShape()
    {
        using var model = LanguageModel.Load(FitFixture.Stories260K);
        var p = model.HyperParameters;
        // keys [ctx, KV] + values [KV, ctx rounded up to 8], F16, per layer.
        Assert.Equal(5L * (100 + 104) * 32 * 2, MemoryModel.KvCacheBytes(p, 100));
        Assert.Equal(2 * MemoryModel.KvCacheBytes(p, 1024), MemoryModel.KvCacheBytes(p, 2048));
        // Q8_0: keys and values [ctx, KV] in blocks of 32 values in 34 bytes.
        var wide = p with { HeadDimension = 32, KeyValueHeadCount = 2 };
        Assert.Equal(5L * 2 * 100 * (64 / 32 * 34), MemoryModel.KvCacheBytes(wide, 100, KvCacheType.Q8_0));
    }

    private string SpmModel()
    {
        string path = Path.Combine(fixture.Folder, "spm.gguf");
        lock (fixture)
        {
            if (!File.Exists(path))
            {
                using var vocab = GgufFile.Open(RepoPaths.Fixture("vocab", "ggml-vocab-llama-spm.gguf"));
                ModelSynthesizer.Write(path, new SynthesisOptions
                {
                    Architecture = "llama", EmbeddingLength = 64, BlockCount = 1, HeadCount = 4, KeyValueHeadCount = 2,
                    FeedForwardLength = 128, StandardDeviation = 0.1f, Seed = 3, Type = Numerics.Quants.GgmlType.F16,
                }, vocab.MetadataInOrder);
            }
        }
        return path;
    }
}
