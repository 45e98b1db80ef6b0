using EdgeLm.Compression.Quantization;
using EdgeLm.Compression.Reporting;
using EdgeLm.Compression.Tests.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Reporting;

/// <summary>ModelComparison, ModelFileSummary and GenerationSpeed on stories260K and copies of it.</summary>
public sealed class ModelComparisonTests(TestModels models) : IClassFixture<TestModels>
{
    private static string Text => File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));

    private string Quantized(FileType type, string? folder = null)
    {
        string path = models.NewPath($"stories-{type}");
        if (folder is not null)
        {
            Directory.CreateDirectory(Path.Combine(models.Folder, folder));
            path = Path.Combine(models.Folder, folder, $"stories-{type}.gguf");
        }
        ModelQuantizer.Quantize(TestModels.Stories260K, path, new QuantizeOptions { FileType = type, Threads = 2 });
        return path;
    }

    private static ComparisonOptions Options(params string[] variants) => new()
    {
        OriginalPath = TestModels.Stories260K,
        VariantPaths = variants,
        Text = Text,
        ContextLength = 64,
        MaxChunks = 3,
        Threads = 2,
        GeneratedTokens = 4,
        PromptTokens = 8,
        Repetitions = 1,
    };

    /// <summary>
    /// With no memory for the original's logits it is evaluated again per variant; the numbers must be the same as
    /// with the kept logits, since both are the same evaluation.
    /// </summary>
    [Fact]
    public void KeptAndRecomputedReferenceLogitsGiveTheSameNumbers()
    {
        string q4 = Quantized(FileType.Q4_K_M);
        var kept = ModelComparison.Run(Options(q4));
        var recomputed = ModelComparison.Run(Options(q4) with { MaxReferenceBytes = 0 });
        Assert.True(kept.ReferenceCached);
        Assert.False(recomputed.ReferenceCached);
        // 3 chunks x positions 32..62 x 512 logits x 4 bytes.
        Assert.Equal(3L * 31 * 512 * 4, kept.ReferenceBytes);
        Assert.Equal(kept.ReferenceBytes, recomputed.ReferenceBytes);
        var a = kept.Models[1].Divergence;
        var b = recomputed.Models[1].Divergence;
        Assert.True(a.Mean > 0);
        Assert.Equal(a.Mean, b.Mean, 12);
        Assert.Equal(a.P99, b.P99, 12);
        Assert.Equal(a.TopTokenAgreement, b.TopTokenAgreement);
        Assert.Equal(kept.Models[1].Perplexity, recomputed.Models[1].Perplexity, 12);
        // The variant's view of the original's perplexity, from the kept rows, is the original's own.
        Assert.Equal(kept.Original.Perplexity, a.BasePerplexity, 12);
        Assert.Equal(3, kept.Chunks);
        Assert.Equal(3 * 31, kept.ScoredTokens);
        Assert.Equal(kept.ScoredTokens, a.ScoredTokens);
    }

    [Fact]
    public void ModelsSharingAFileNameAreLabelledByPath()
    {
        string a = Quantized(FileType.Q6_K, "a"), b = Quantized(FileType.Q6_K, "b");
        var report = ModelComparison.Run(Options(a, b) with { MaxChunks = 2 });
        Assert.Equal(["stories260K.gguf", a, b], report.Models.Select(m => m.Name));
        Assert.True(report.Models[0].IsOriginal);
        Assert.False(report.Models[1].IsOriginal);
        // The same quantization twice: the same divergence.
        Assert.Equal(report.Models[1].Divergence.Mean, report.Models[2].Divergence.Mean);
    }

    [Fact]
    public void FileSummaryCountsEveryTensor()
    {
        string q4 = models.NewPath("summary-q4km");
        var quantization = ModelQuantizer.Quantize(TestModels.Stories260K, q4, new QuantizeOptions { FileType = FileType.Q4_K_M, Threads = 2 });
        using (var file = GgufFile.Open(q4))
        {
            var summary = ModelFileSummary.Of(file);
            Assert.Equal(new FileInfo(q4).Length, summary.FileBytes);
            Assert.Equal("Q4_K_M", summary.FileType);
            Assert.Equal(quantization.ElementCount, summary.ElementCount);
            Assert.Equal(quantization.BitsPerWeight, summary.BitsPerWeight, 12);
            Assert.True(summary.TensorBytes < summary.FileBytes);
        }
        using (var original = GgufFile.Open(TestModels.Stories260K))
        {
            // stories260K has no general.file_type: the type holding the most bytes names it.
            var summary = ModelFileSummary.Of(original);
            Assert.Equal("F32", summary.FileType);
            Assert.Equal(32.0, summary.BitsPerWeight);
            Assert.InRange(summary.ElementCount, 200_000, 300_000);
            Assert.Equal(summary.ElementCount * 4, summary.TensorBytes);
        }
    }

    [Fact]
    public void SpeedIsMeasuredWithTheThreadsAskedFor()
    {
        using var lm = LanguageModel.Load(TestModels.Stories260K);
        int[] prompt = lm.Tokenizer.Encode("Once upon a time there was a little girl", addSpecial: true);
        var speed = GenerationSpeed.Measure(lm, lm.Tokenizer.BosId, prompt, generatedTokens: 4, repetitions: 2, threads: 1);
        Assert.True(speed.TokensPerSecond > 0);
        Assert.True(speed.PromptTokensPerSecond > 0);
        Assert.Equal(1, speed.Threads);
        Assert.Equal(prompt.Length, speed.PromptTokens);
        Assert.Equal(2, speed.Repetitions);
        var noPrompt = GenerationSpeed.Measure(lm, lm.Tokenizer.BosId, [], generatedTokens: 2, repetitions: 1, threads: 2);
        Assert.Null(noPrompt.PromptTokensPerSecond);
        Assert.Equal(2, noPrompt.Threads);
        Assert.Throws<ArgumentOutOfRangeException>(() => GenerationSpeed.Measure(lm, lm.Tokenizer.BosId, [], 0, 1, 1));
    }

    [Fact]
    public void AVocabularyThatDiffersInOneTokenIsRefused()
    {
        string renamed = models.NewPath("renamed");
        using (var source = GgufFile.Open(TestModels.Stories260K))
        {
            string[] tokens = source.GetArray(GgufKeys.TokenizerTokens).AsStrings();
            tokens[511] = "\u2581not-a-token";
            var writer = GgufWriter.From(source);
            writer.SetMetadata(GgufKeys.TokenizerTokens, GgufValue.FromStrings(tokens));
            writer.Write(renamed);
        }
        using var original = LanguageModel.Load(TestModels.Stories260K);
        using var same = LanguageModel.Load(TestModels.Stories260K);
        ModelComparison.CheckSameVocabulary(original, same);
        using var other = LanguageModel.Load(renamed);
        var e = Assert.Throws<ModelComparisonException>(() => ModelComparison.CheckSameVocabulary(original, other));
        Assert.Contains("token 511", e.Message);
        Assert.Contains(renamed, e.Message);
        Assert.Throws<ModelComparisonException>(() => ModelComparison.Run(Options(renamed)));
    }

    [Fact]
    public void BadOptionsAreRefusedBeforeAnyWork()
    {
        Assert.Throws<ArgumentException>(() => ModelComparison.Run(Options()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelComparison.Run(Options(TestModels.Stories260K) with { ContextLength = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelComparison.Run(Options(TestModels.Stories260K) with { Repetitions = 0 }));
        var shortText = Assert.Throws<ModelComparisonException>(() => ModelComparison.Run(Options(TestModels.Stories260K) with { Text = "Once upon a time" }));
        Assert.Contains("needs at least 128", shortText.Message);
        var longPrompt = Assert.Throws<ModelComparisonException>(() => ModelComparison.Run(Options(TestModels.Stories260K) with { PromptTokens = 100_000 }));
        Assert.Contains("prompt-speed", longPrompt.Message);
        Assert.ThrowsAny<IOException>(() => ModelComparison.Run(Options(models.NewPath("missing"))));
    }
}
