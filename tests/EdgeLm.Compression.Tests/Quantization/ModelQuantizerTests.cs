using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Tests.Quantization;

public class ModelQuantizerTests(TestModels models) : IClassFixture<TestModels>
{
    private static float[] Floats(GgufFile file, GgufTensorInfo t)
    {
        var values = new float[t.ElementCount];
        Dequantize.Row(t.Type, file.GetTensorBytes(t), values);
        return values;
    }

    private static double RelativeRms(float[] reference, float[] candidate)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            err += (reference[i] - candidate[i]) * (double)(reference[i] - candidate[i]);
            norm += reference[i] * (double)reference[i];
        }
        return Math.Sqrt(err / norm);
    }

    /// <summary>Every tensor reads back close to the original, closer for more bits; the metadata says what the file is.</summary>
    [Theory]
    [InlineData(FileType.Q8_0, 0.01)]
    [InlineData(FileType.Q6_K, 0.03)]
    [InlineData(FileType.Q4_K_M, 0.12)]
    [InlineData(FileType.Q4_0, 0.15)]
    [InlineData(FileType.Q2_K, 0.45)]
    public void TensorsReadBackCloseToTheOriginal(FileType type, double tolerance)
    {
        string output = models.NewPath("q");
        var report = ModelQuantizer.Quantize(models.Llama8, output, new QuantizeOptions { FileType = type, Threads = 2 });
        using var source = GgufFile.Open(models.Llama8);
        using var result = GgufFile.Open(output);
        Assert.Equal((long)type, result.GetInteger(GgufKeys.GeneralFileType));
        Assert.Equal(2, result.GetInteger(GgufKeys.GeneralQuantizationVersion));
        Assert.Equal(source.Tensors.Count, result.Tensors.Count);
        foreach (var t in source.Tensors)
        {
            var q = result.GetTensor(t.Name);
            Assert.Equal(t.Dimensions, q.Dimensions);
            double err = RelativeRms(Floats(source, t), Floats(result, q));
            Assert.True(err <= tolerance, $"{t.Name} as {q.Type}: relative RMS error {err:F4} > {tolerance}");
        }
        Assert.Equal(result.Tensors.Sum(t => t.ByteSize), report.QuantizedBytes);
        Assert.Equal(report.QuantizedBytes * 8.0 / report.ElementCount, report.BitsPerWeight, 9);
        Assert.InRange(report.BitsPerWeight, GgmlTypeInfo.BitsPerWeight(FileTypes.DefaultTensorType(type)), 16);
    }

    [Fact]
    public void ThreadCountDoesNotChangeTheBytes()
    {
        string one = models.NewPath("t1"), four = models.NewPath("t4");
        var matrix = Importance(models.Llama8);
        ModelQuantizer.Quantize(models.Llama8, one, new QuantizeOptions { FileType = FileType.Q3_K_M, Threads = 1, Importance = matrix });
        ModelQuantizer.Quantize(models.Llama8, four, new QuantizeOptions { FileType = FileType.Q3_K_M, Threads = 4, Importance = matrix });
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(four));
    }

    [Fact]
    public void ProgressReachesEveryWeight()
    {
        long last = 0, total = 0;
        var seen = new HashSet<string>();
        ModelQuantizer.Quantize(models.Llama8, models.NewPath("p"), new QuantizeOptions
        {
            FileType = FileType.Q4_0, Threads = 2,
            Progress = p => { lock (seen) { seen.Add(p.Tensor); last = Math.Max(last, p.ElementsDone); total = p.ElementsTotal; } },
        });
        using var source = GgufFile.Open(models.Llama8);
        Assert.Equal(source.Tensors.Sum(t => t.ElementCount), total);
        Assert.Equal(total, last);
        Assert.Equal(source.Tensors.Count, seen.Count);
    }

    /// <summary>An importance matrix lowers the importance-weighted error, which is what the quantizer minimises.</summary>
    [Fact]
    public void AnImportanceMatrixLowersTheWeightedError()
    {
        var matrix = Importance(models.Llama8);
        string plain = models.NewPath("plain"), weighted = models.NewPath("weighted");
        ModelQuantizer.Quantize(models.Llama8, plain, new QuantizeOptions { FileType = FileType.Q4_K_S, Threads = 2 });
        ModelQuantizer.Quantize(models.Llama8, weighted, new QuantizeOptions { FileType = FileType.Q4_K_S, Threads = 2, Importance = matrix });
        using var source = GgufFile.Open(models.Llama8);
        using var a = GgufFile.Open(plain);
        using var b = GgufFile.Open(weighted);
        int better = 0, entries = 0;
        foreach (var e in matrix.Entries)
        {
            var t = source.GetTensor(e.Name);
            float[] x = Floats(source, t), qa = Floats(a, a.GetTensor(e.Name)), qb = Floats(b, b.GetTensor(e.Name));
            float[] w = e.MeanSquares();
            double ea = 0, eb = 0;
            for (int i = 0; i < x.Length; i++)
            {
                ea += w[i % w.Length] * (x[i] - qa[i]) * (double)(x[i] - qa[i]);
                eb += w[i % w.Length] * (x[i] - qb[i]) * (double)(x[i] - qb[i]);
            }
            entries++;
            if (eb < ea)
                better++;
        }
        Assert.Equal(entries, better);
    }

    [Fact]
    public void AFailedQuantizationLeavesNoFileAndKeepsAnExistingOne()
    {
        string output = models.NewPath("keep");
        File.WriteAllText(output, "previous contents");
        // stories260K's 172-wide ffn_down fits no Q8_0 block: refused before anything is written.
        Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(TestModels.Stories260K, output, new QuantizeOptions { FileType = FileType.Q8_0 }));
        Assert.Equal("previous contents", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(output)!, Path.GetFileName(output) + "*"));
        Assert.Empty(Directory.GetFiles(models.Folder, "*.tmp"));
    }

    [Fact]
    public void QuantizedModelsAreRequantizedOnlyWhenAllowedAndNeverUpwards()
    {
        string q4 = models.NewPath("q4"), q8 = models.NewPath("q8"), again = models.NewPath("again");
        ModelQuantizer.Quantize(models.Llama8, q4, new QuantizeOptions { FileType = FileType.Q4_0, Threads = 2 });
        var up = Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(q4, q8, new QuantizeOptions { FileType = FileType.Q8_0, AllowRequantize = true }));
        Assert.Contains("already quantized to Q4_0", up.Message);
        Assert.False(File.Exists(q8));
        var refused = Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(q4, again, new QuantizeOptions { FileType = FileType.Q2_K }));
        Assert.Contains("--allow-requantize", refused.Message);
        var report = ModelQuantizer.Quantize(q4, again, new QuantizeOptions { FileType = FileType.Q2_K, AllowRequantize = true, Threads = 2 });
        Assert.Contains(report.Warnings, w => w.Contains("requantizing from Q4_0"));
        using var result = GgufFile.Open(again);
        Assert.Equal(GgmlType.Q2_K, result.GetTensor("blk.2.ffn_up.weight").Type);
    }

    [Fact]
    public void AnImportanceMatrixForAnotherModelIsRefused()
    {
        var wrong = new ImportanceMatrix([new ImportanceEntry("blk.0.attn_q.weight", new float[64], [1])], [], 1, 1);
        string output = models.NewPath("wrong");
        var e = Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(models.Llama8, output, new QuantizeOptions { FileType = FileType.Q4_K_M, Importance = wrong }));
        Assert.Contains("blk.0.attn_q.weight", e.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void AnImportanceMatrixWithANonFiniteValueIsRefused()
    {
        var entries = Importance(models.Llama8).Entries.ToList();
        entries[3].SumOfSquares[7] = float.PositiveInfinity;
        string output = models.NewPath("inf");
        var e = Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(models.Llama8, output,
            new QuantizeOptions { FileType = FileType.Q4_K_M, Importance = new ImportanceMatrix(entries, [], 1, 1) }));
        Assert.Contains(entries[3].Name, e.Message);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Q2KSNeedsAnImportanceMatrix()
    {
        string output = models.NewPath("q2ks");
        var e = Assert.Throws<QuantizationException>(() => ModelQuantizer.Quantize(models.Llama8, output, new QuantizeOptions { FileType = FileType.Q2_K_S }));
        Assert.Contains("importance matrix", e.Message);
        Assert.False(File.Exists(output));
        ModelQuantizer.Quantize(models.Llama8, output, new QuantizeOptions { FileType = FileType.Q2_K_S, Importance = Importance(models.Llama8), Threads = 2 });
        Assert.True(File.Exists(output));
    }

    /// <summary>A deterministic, uneven importance for every block matrix.</summary>
    internal static ImportanceMatrix Importance(string model)
    {
        using var file = GgufFile.Open(model);
        var rng = new Random(3);
        var entries = file.Tensors.Where(t => t.Name.StartsWith("blk.") && t.Rank == 2)
            .Select(t => new ImportanceEntry(t.Name, Enumerable.Range(0, (int)t.RowLength).Select(_ => 50f * MathF.Exp((float)(rng.NextDouble() * 6 - 3))).ToArray(), [50f]))
            .ToList();
        return new ImportanceMatrix(entries, ["test"], 1, 50);
    }
}
