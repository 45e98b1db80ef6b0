using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Runtime.Tests.Performance;

/// <summary>Runs alone: it measures the whole process's allocations, which other tests running beside it would add to.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation measurements";
}

/// <summary>
/// After warm-up, evaluating one token at a time allocates nothing managed: not on the calling thread and not on
/// any worker thread (each counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/> on that thread). The
/// whole process's count (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, precise) is written to the test output
/// too but not asserted: inside the test host it also counts the runner's threads and what earlier tests left
/// running (0 bytes in a plain process, 2-20 KB here).
/// </summary>
[Collection(AllocationCollection.Name)]
public class DecodeAllocationTests(ITestOutputHelper log)
{
    private const int WarmUpTokens = 40;
    private const int MeasuredTokens = 40;

    /// <summary>
    /// An F16 llama with matrices big enough (256 x 512) that two threads really split them, written once into the
    /// temp folder; stories260K (F32, matrices too small to split) covers the single-threaded path.
    /// </summary>
    private static string SynthF16()
    {
        string path = Path.Combine(Path.GetTempPath(), "edgelm-tests", "alloc-llama-f16-v1.gguf");
        if (File.Exists(path))
            return path;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var vocab = GgufFile.Open(RepoPaths.Fixture("vocab", "ggml-vocab-llama-spm.gguf"));
        string partial = path + $".{Guid.NewGuid():N}";
        ModelSynthesizer.Write(partial, new SynthesisOptions
        {
            Architecture = "llama", EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, KeyValueHeadCount = 2,
            FeedForwardLength = 512, StandardDeviation = 0.1f, Seed = 3, ContextLength = 512, Type = GgmlType.F16,
        }, vocab.MetadataInOrder);
        File.Move(partial, path, overwrite: true);
        return path;
    }

    /// <summary>The Q8_0 cache (64-wide heads: quantized, rotated keys and values) runs on the synth model only: stories260K's 8-wide heads cannot hold Q8_0 blocks.</summary>
    [Theory]
    [InlineData("stories260K", 1, KvCacheType.F16)]
    [InlineData("stories260K", 2, KvCacheType.F16)]
    [InlineData("synth-f16", 1, KvCacheType.F16)]
    [InlineData("synth-f16", 2, KvCacheType.F16)]
    [InlineData("synth-f16", 1, KvCacheType.Q8_0)]
    [InlineData("synth-f16", 2, KvCacheType.Q8_0)]
    public void DecodingAllocatesNothingOnceWarm(string model, int threads, KvCacheType cacheType)
    {
        string path = model == "stories260K" ? RepoPaths.Stories260K : SynthF16();
        using var lm = LanguageModel.Load(path);
        var session = lm.CreateSession(new SessionOptions { Threads = threads, ContextLength = 256, CacheType = cacheType });
        Assert.Equal(cacheType, session.Cache.KeyType);
        var rng = new Random(11);
        int vocabulary = lm.HyperParameters.VocabularySize;
        var tokens = new int[8 + WarmUpTokens + MeasuredTokens];
        for (int i = 0; i < tokens.Length; i++)
            tokens[i] = rng.Next(3, vocabulary);

        session.Evaluate(tokens.AsSpan(0, 8));
        for (int i = 8; i < 8 + WarmUpTokens; i++)
            session.Evaluate(tokens.AsSpan(i, 1));

        var workers = session.State.MatMul.Workers;
        long worker = workers.WorkerAllocatedBytes();
        long process = GC.GetTotalAllocatedBytes(precise: true);
        long thread = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 8 + WarmUpTokens; i < tokens.Length; i++)
            session.Evaluate(tokens.AsSpan(i, 1));
        long threadAllocated = GC.GetAllocatedBytesForCurrentThread() - thread;
        long processAllocated = GC.GetTotalAllocatedBytes(precise: true) - process;
        long workerAllocated = workers.WorkerAllocatedBytes() - worker;

        log.WriteLine($"{model}, {threads} thread(s), {cacheType} cache, {MeasuredTokens} tokens: calling thread {threadAllocated} B, workers {workerAllocated} B, whole process {processAllocated} B");
        Assert.Equal(8 + WarmUpTokens + MeasuredTokens, session.Position);
        Assert.True(threadAllocated == 0, $"{MeasuredTokens} decode steps allocated {threadAllocated} bytes on the calling thread");
        Assert.True(workerAllocated == 0, $"{MeasuredTokens} decode steps allocated {workerAllocated} bytes on the worker threads");
    }
}
