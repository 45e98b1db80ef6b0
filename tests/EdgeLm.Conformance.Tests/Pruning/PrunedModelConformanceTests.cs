using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Pruning;
using EdgeLm.Conformance.Tests.Models;
using EdgeLm.Conformance.Tests.Support;
using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Pruning;

/// <summary>
/// Pruned models must be valid GGUF for llama.cpp as well as for EdgeLm: the oracle loads each pruned file, and its
/// next-token distributions after a 64-token story agree with EdgeLm's on the same file, with the thresholds of the
/// float conformance tests (argmax equal everywhere, mean KL below 1e-5).
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class PrunedModelConformanceTests(SynthModelFixture models, ITestOutputHelper log) : IClassFixture<SynthModelFixture>, IDisposable
{
    private const int PromptLength = 64;
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-prune-conformance-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Sample => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    [Theory]
    [InlineData(0.75, null, 0)] // the case: 75% of the FFN width (172 -> 128)
    [InlineData(0.75, 0.5, 1)] // and half the heads (8 on 4 KV -> 4 on 2, head width now explicit) and one layer
    public void WidthPrunedStories260KRunsInLlamaCppWithTheSameLogits(double ffn, double? heads, int drop)
    {
        string output = Prune(RepoPaths.Stories260K, ffn, heads, drop, out var report);
        Assert.Equal(128, report.Plan.FeedForwardLength);
        Assert.True(report.OutputBytes < report.InputBytes);
        Agree(output);
    }

    /// <summary>A grouped-query synthetic llama (4 query heads on 2 KV heads): one KV group and its two query heads go.</summary>
    [Fact]
    public void GqaHeadsPrunedFromASynthLlamaRunInLlamaCppWithTheSameLogits()
    {
        string output = Prune(models.Get("llama", "F32"), 0.75, 0.5, 0, out var report);
        Assert.Equal(384, report.Plan.FeedForwardLength);
        Assert.Equal((2, 1), (report.Plan.HeadCount, report.Plan.KeyValueHeadCount));
        using (var file = GgufFile.Open(output))
        {
            Assert.Equal(2, file.GetInteger("llama.attention.head_count"));
            Assert.Equal(1, file.GetInteger("llama.attention.head_count_kv"));
            Assert.Equal(64, file.GetInteger("llama.attention.key_length"));
        }
        Agree(output);
    }

    /// <summary>Qwen2 (tied embeddings, attention biases, one KV head): FFN narrowed and a layer dropped.</summary>
    [Fact]
    public void WidthPrunedSynthQwen2RunsInLlamaCppWithTheSameLogits()
    {
        string output = Prune(models.Get("qwen2", "F16"), 0.5, null, 1, out var report);
        Assert.Equal(256, report.Plan.FeedForwardLength);
        Assert.Single(report.Plan.Blocks);
        Agree(output);
    }

    [Fact]
    public void WandaTwoFourPrunedStories260KRunsInLlamaCppWithTheSameLogits()
    {
        string output = Path.Combine(_folder, "wanda24.gguf");
        ImportanceMatrix matrix;
        using (var lm = LanguageModel.Load(RepoPaths.Stories260K))
            matrix = ImportanceCollector.Collect(lm, File.ReadAllText(Sample), new ImportanceOptions { ContextLength = 128, Threads = 2 });
        UnstructuredPruner.Prune(RepoPaths.Stories260K, output, new UnstructuredPruneOptions
        {
            Score = PruneScore.Wanda, Pattern = new SparsityPattern(2, 4), Importance = matrix, Threads = 2,
        });
        Agree(output);
    }

    private string Prune(string source, double ffn, double? heads, int drop, out StructuredPruneReport report)
    {
        StructureStatistics statistics;
        StructuredPruneOptions options;
        using (var lm = LanguageModel.Load(source))
        {
            var p = lm.HyperParameters;
            int[] tokens = lm.Tokenizer.Encode(File.ReadAllText(Sample), addSpecial: true, parseSpecial: false);
            statistics = StructureStatistics.Collect(lm, tokens, new ImportanceOptions { ContextLength = 128, MaxChunks = 4, Threads = 2 });
            options = new StructuredPruneOptions
            {
                FeedForwardLength = StructuredPruneOptions.FeedForwardLengthFor(p.FeedForwardLength, ffn),
                KeyValueHeadCount = heads is { } h ? StructuredPruneOptions.KeyValueHeadCountFor(p.KeyValueHeadCount, h) : null,
                DropBlocks = drop,
                Threads = 2,
            };
        }
        string output = Path.Combine(_folder, $"pruned-{Guid.NewGuid():N}.gguf");
        report = StructuredPruner.Prune(source, output, options, statistics);
        return output;
    }

    /// <summary>Both engines on the same pruned file: argmax equal at every position, mean KL below 1e-5.</summary>
    private void Agree(string path)
    {
        var result = EngineAgreement.Measure(path, lm => lm.Tokenizer.Encode(File.ReadAllText(Sample), addSpecial: true, parseSpecial: false)[..PromptLength]);
        log.WriteLine($"{Path.GetFileName(path)}: {result}");
        Assert.Equal(result.Positions, result.ArgmaxAgreements);
        Assert.True(result.MeanKl < 1e-5, $"mean KL {result.MeanKl:E3}");
    }
}
