using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Pruning;
using EdgeLm.Compression.Quantization;
using EdgeLm.Compression.Tests.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime;
using Xunit.Abstractions;

namespace EdgeLm.Compression.Tests.Pruning;

public sealed class UnstructuredPrunerTests(TestModels models, ITestOutputHelper log) : IClassFixture<TestModels>
{
    private static readonly string[] Suffixes = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

    private static ImportanceMatrix Calibrate(string path, int? chunks = null)
    {
        using var lm = LanguageModel.Load(path);
        var (calibration, _) = PruningData.Split(lm);
        return ImportanceCollector.Collect(lm, calibration, new ImportanceOptions { ContextLength = PruningData.Context, MaxChunks = chunks, Threads = 2 });
    }

    private static IEnumerable<string> Targets(GgufFile file)
    {
        int blocks = (int)file.GetInteger(GgufKeys.BlockCount(file.GetString(GgufKeys.GeneralArchitecture)));
        return Enumerable.Range(0, blocks).SelectMany(b => Suffixes.Select(s => $"blk.{b}.{s}.weight"));
    }

    [Fact]
    public void WandaBeatsMagnitudeAtHalfSparsityOnStories260K()
    {
        string magnitude = models.NewPath("magnitude"), wanda = models.NewPath("wanda"), semi = models.NewPath("wanda24");
        var matrix = Calibrate(TestModels.Stories260K);
        UnstructuredPruner.Prune(TestModels.Stories260K, magnitude, new UnstructuredPruneOptions { Score = PruneScore.Magnitude, Sparsity = 0.5, Threads = 2 });
        UnstructuredPruner.Prune(TestModels.Stories260K, wanda, new UnstructuredPruneOptions { Score = PruneScore.Wanda, Sparsity = 0.5, Importance = matrix, Threads = 2 });
        UnstructuredPruner.Prune(TestModels.Stories260K, semi, new UnstructuredPruneOptions
        {
            Score = PruneScore.Wanda, Pattern = new SparsityPattern(2, 4), Importance = matrix, Threads = 2,
        });
        double original = PruningData.Perplexity(TestModels.Stories260K);
        double m = PruningData.Perplexity(magnitude), w = PruningData.Perplexity(wanda), w24 = PruningData.Perplexity(semi);
        log.WriteLine($"perplexity on the held-back half: original {original:F3}, magnitude 50% {m:F3}, Wanda 50% {w:F3}, Wanda 2:4 {w24:F3}");
        Assert.True(w < m, $"Wanda {w:F3} is not below magnitude {m:F3}");
        Assert.True(original < w, $"pruning half the weights did not cost anything ({original:F3} vs {w:F3}): was anything pruned?");
        // 2:4 is the same sparsity with less freedom in where the zeros go.
        Assert.True(w <= w24, $"Wanda 2:4 {w24:F3} beat unconstrained Wanda {w:F3}");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    [InlineData(0.9)]
    public void EveryRowLosesExactlyItsShareAndOnlyTheSmallestWeights(double sparsity)
    {
        string output = models.NewPath("magnitude");
        var report = UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions { Sparsity = sparsity, Threads = 2 });
        using var before = GgufFile.Open(TestModels.Stories260K);
        using var after = GgufFile.Open(output);
        var targets = Targets(before).ToHashSet();
        Assert.Equal(targets.Order(), report.Tensors.Select(t => t.Name).Order());
        foreach (var name in targets)
        {
            var w = PruningFiles.Read(before, name);
            var p = PruningFiles.Read(after, name);
            int n = (int)before.GetTensor(name).RowLength;
            int expected = (int)Math.Floor(sparsity * n + 1e-9);
            for (int r = 0; r < w.Length / n; r++)
            {
                var wr = w.AsSpan(r * n, n);
                var pr = p.AsSpan(r * n, n);
                int zeros = 0;
                float largestGone = 0, smallestKept = float.PositiveInfinity;
                for (int j = 0; j < n; j++)
                {
                    if (pr[j] == 0)
                    {
                        zeros++;
                        largestGone = Math.Max(largestGone, Math.Abs(wr[j]));
                    }
                    else
                    {
                        Assert.Equal(wr[j], pr[j]); // kept weights are untouched, bit for bit
                        smallestKept = Math.Min(smallestKept, Math.Abs(wr[j]));
                    }
                }
                Assert.True(zeros == expected, $"{name} row {r}: {zeros} zeros, expected {expected}");
                Assert.True(largestGone <= smallestKept, $"{name} row {r}: pruned |w| {largestGone} above kept {smallestKept}");
            }
        }
        // Everything else is byte for byte the input, metadata included.
        foreach (var t in before.Tensors.Where(t => !targets.Contains(t.Name)))
            Assert.True(before.GetTensorBytes(t).SequenceEqual(after.GetTensorBytes(after.GetTensor(t.Name))), t.Name);
        Assert.Equal(before.MetadataInOrder.Select(kv => kv.Key), after.MetadataInOrder.Select(kv => kv.Key));
        Assert.All(before.MetadataInOrder, kv => Assert.Equal(kv.Value, after.Metadata[kv.Key]));
        Assert.Equal(before.Length, report.InputBytes);
        Assert.Equal(new FileInfo(output).Length, report.OutputBytes);
    }

    [Theory]
    [InlineData(2, 4, PruneScore.Magnitude)]
    [InlineData(4, 8, PruneScore.Wanda)]
    [InlineData(2, 4, PruneScore.Wanda)]
    public void TheNOfMPatternHoldsInEveryGroupAndTheTypeIsKept(int n, int m, PruneScore score)
    {
        // llama8 is F16 with rows of 256: every group is whole.
        string output = models.NewPath("nm");
        var report = UnstructuredPruner.Prune(models.Llama8, output, new UnstructuredPruneOptions
        {
            Score = score, Pattern = new SparsityPattern(n, m), Threads = 2,
            Importance = score == PruneScore.Wanda ? Calibrate(models.Llama8, chunks: 1) : null,
        });
        Assert.Equal(1.0 - (double)n / m, report.Sparsity, 12);
        using var before = GgufFile.Open(models.Llama8);
        using var after = GgufFile.Open(output);
        foreach (var name in Targets(before))
        {
            Assert.Equal(GgmlType.F16, after.GetTensor(name).Type);
            var w = PruningFiles.Read(before, name);
            var p = PruningFiles.Read(after, name);
            for (int g = 0; g < p.Length; g += m)
            {
                int zeros = 0;
                for (int j = g; j < g + m; j++)
                {
                    if (p[j] == 0)
                        zeros++;
                    else
                        Assert.Equal(w[j], p[j]);
                }
                Assert.True(zeros == m - n, $"{name} group at {g}: {zeros} zeros, expected {m - n}");
            }
        }
        Assert.All(report.Tensors, t => Assert.Equal(t.Elements * (m - n) / m, t.Pruned));
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.BF16)]
    public void EveryFloatTypeIsKeptAndItsSurvivingWeightsAreUntouched(GgmlType type)
    {
        string source = models.NewPath($"llama-{type}"), output = models.NewPath($"pruned-{type}");
        using (var vocab = GgufFile.Open(TestModels.Stories260K))
            EdgeLm.Runtime.Synthesis.ModelSynthesizer.Write(source, TestModels.Llama8Options with { Type = type, BlockCount = 2 }, vocab.MetadataInOrder);
        UnstructuredPruner.Prune(source, output, new UnstructuredPruneOptions { Sparsity = 0.25, Threads = 2 });
        using var before = GgufFile.Open(source);
        using var after = GgufFile.Open(output);
        Assert.Equal(before.Tensors.Select(t => (t.Name, t.Type)), after.Tensors.Select(t => (t.Name, t.Type)));
        foreach (var name in Targets(before))
        {
            var w = PruningFiles.Read(before, name);
            var p = PruningFiles.Read(after, name);
            Assert.Equal(w.Length / 4, p.Count(v => v == 0));
            for (int i = 0; i < w.Length; i++)
                Assert.True(p[i] == 0 || p[i] == w[i], $"{name}[{i}]: {w[i]} became {p[i]}");
        }
    }

    [Fact]
    public void WandaChoosesByWeightTimesInputNorm()
    {
        // Give column 0 of every matrix a huge input norm: Wanda must then keep column 0 in every row where its
        // weight is non-zero, while magnitude drops it wherever the weight is small.
        using var before = GgufFile.Open(TestModels.Stories260K);
        var entries = Targets(before).Select(name =>
        {
            int n = (int)before.GetTensor(name).RowLength;
            var sums = Enumerable.Repeat(1f, n).ToArray();
            sums[0] = 1e12f;
            return new ImportanceEntry(name, sums, [1]);
        });
        string output = models.NewPath("wanda-col0");
        UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions
        {
            Score = PruneScore.Wanda, Sparsity = 0.9, Importance = new ImportanceMatrix(entries, [], 1, 1), Threads = 2,
        });
        using var after = GgufFile.Open(output);
        foreach (var name in Targets(before))
        {
            var w = PruningFiles.Read(before, name);
            var p = PruningFiles.Read(after, name);
            int n = (int)before.GetTensor(name).RowLength;
            for (int r = 0; r < w.Length / n; r++)
                Assert.Equal(w[r * n], p[r * n]);
        }
    }

    [Fact]
    public void WandaWithoutStatisticsOrWithAnotherModelsIsRefusedAndWritesNothing()
    {
        string output = models.NewPath("bad");
        var e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions { Score = PruneScore.Wanda }));
        Assert.Contains("calibration", e.Message);
        e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions
        {
            Score = PruneScore.Wanda, Importance = Calibrate(models.Llama8, chunks: 1),
        }));
        Assert.Contains("another model", e.Message);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(models.Folder, "bad-*"));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void SparsityOutOfRangeIsRefused(double sparsity)
    {
        string output = models.NewPath("range");
        var e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions { Sparsity = sparsity }));
        Assert.Contains("between 0 and 1", e.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void APatternThatDoesNotDivideTheRowsIsRefusedBeforeWriting()
    {
        // stories260K's ffn_down rows hold 172 weights: groups of 4 fit, groups of 8 do not.
        string output = models.NewPath("48");
        var e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, output, new UnstructuredPruneOptions { Pattern = new SparsityPattern(4, 8) }));
        Assert.Contains("ffn_down", e.Message);
        Assert.Contains("172", e.Message);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(models.Folder, ".*.tmp"));
    }

    [Fact]
    public void BadPathsAndQuantizedInputAreClearErrors()
    {
        string output = models.NewPath("paths");
        var e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(Path.Combine(models.Folder, "missing.gguf"), output, new UnstructuredPruneOptions()));
        Assert.Contains("does not exist", e.Message);
        e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, Path.Combine(models.Folder, "no-such-folder", "x.gguf"), new UnstructuredPruneOptions()));
        Assert.Contains("folder", e.Message);
        e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(TestModels.Stories260K, TestModels.Stories260K, new UnstructuredPruneOptions()));
        Assert.Contains("same file", e.Message);

        string quantized = models.NewPath("q8");
        ModelQuantizer.Quantize(models.Llama8, quantized, new QuantizeOptions { FileType = FileType.Q8_0, Threads = 2 });
        e = Assert.Throws<PruneException>(() => UnstructuredPruner.Prune(quantized, output, new UnstructuredPruneOptions()));
        Assert.Contains("quantized", e.Message);
        Assert.Contains("Q8_0", e.Message);
        Assert.False(File.Exists(output));
    }
}
