using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Pruning;
using EdgeLm.Compression.Tests.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime;
using Xunit.Abstractions;

namespace EdgeLm.Compression.Tests.Pruning;

public sealed class UnstructuredPrunerTests(TestModels models, ITestOutputHelper log) : IClassFixture<TestModels>
{
    private static ImportanceMatrix Calibrate(string path)
    {
        using var lm = LanguageModel.Load(path);
        var (calibration, _) = PruningData.Split(lm);
        return ImportanceCollector.Collect(lm, calibration, new ImportanceOptions { ContextLength = PruningData.Context, Threads = 2 });
    }

    [Fact]
    public void WandaBeatsMagnitudeAtHalfSparsityOnStories260K()
    {
        string magnitude = models.NewPath("magnitude"), wanda = models.NewPath("wanda");
        UnstructuredPruner.Prune(TestModels.Stories260K, magnitude, new UnstructuredPruneOptions { Score = PruneScore.Magnitude, Sparsity = 0.5, Threads = 2 });
        UnstructuredPruner.Prune(TestModels.Stories260K, wanda, new UnstructuredPruneOptions
        {
            Score = PruneScore.Wanda, Sparsity = 0.5, Importance = Calibrate(TestModels.Stories260K), Threads = 2,
        });
        double original = PruningData.Perplexity(TestModels.Stories260K);
        double m = PruningData.Perplexity(magnitude), w = PruningData.Perplexity(wanda);
        log.WriteLine($"perplexity on the held-back half: original {original:F3}, magnitude 50% {m:F3}, Wanda 50% {w:F3}");
        Assert.True(w < m, $"Wanda {w:F3} is not below magnitude {m:F3}");
        Assert.True(original < w, $"pruning half the weights did not cost anything ({original:F3} vs {w:F3}): was anything pruned?");
    }
}
