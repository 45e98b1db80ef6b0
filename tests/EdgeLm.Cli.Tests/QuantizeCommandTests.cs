using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

/// <summary><c>edgelm quantize</c> and <c>edgelm imatrix</c> on the bundled stories260K.</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-cli-quantize-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static string Sample => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    [Fact]
    public void QuantizesAndTheResultRuns()
    {
        string output = PathOf("q4km.gguf");
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "q4_k", "-t", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(output, r.Json.GetProperty("path").GetString());
        Assert.Equal("Q4_K_M", r.Json.GetProperty("type").GetString());
        using (var file = GgufFile.Open(output))
        {
            Assert.Equal(15, file.GetInteger(GgufKeys.GeneralFileType));
            double bpw = file.Tensors.Sum(t => t.ByteSize) * 8.0 / file.Tensors.Sum(t => t.ElementCount);
            Assert.Equal(bpw, r.Json.GetProperty("bits_per_weight").GetDouble(), 3);
            Assert.Equal(GgmlType.Q5_0, file.GetTensor("blk.0.attn_q.weight").Type);
        }
        // The fallbacks are reported on standard error.
        Assert.Contains("fallback", r.Error);
        var run = CliRunner.Run("run", "-m", output, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(8, run.Json.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void HumanOutputListsTheTypesUsed()
    {
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, PathOf("q6.gguf"), "Q6_K");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Q6_K", r.Output);
        Assert.Contains("bits per weight", r.Output);
        Assert.Contains("Q8_0", r.Output);
    }

    [Theory]
    [InlineData("IQ2_XS")]
    [InlineData("Q4")]
    [InlineData("q9_0")]
    public void AnUnsupportedTypeIsAUsageErrorAndWritesNothing(string type)
    {
        string output = PathOf("bad.gguf");
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, output, type);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"unsupported target type '{type}'", r.Error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void AMissingOutputFolderIsAUsageError()
    {
        string output = Path.Combine(_folder, "no", "such", "folder", "m.gguf");
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_K_M");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("does not exist", r.Error);
        Assert.False(Directory.Exists(Path.Combine(_folder, "no")));
    }

    [Fact]
    public void AModelAlreadyQuantizedBelowTheTargetIsRefused()
    {
        string q3 = PathOf("q3.gguf"), q8 = PathOf("q8.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, q3, "Q3_K_S").ExitCode);
        var r = CliRunner.Run("quantize", q3, q8, "Q6_K", "--allow-requantize");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already quantized to Q4_0", r.Error);
        Assert.False(File.Exists(q8));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void RequantizingNeedsTheFlagAndWarns()
    {
        string q6 = PathOf("q6.gguf"), q3 = PathOf("q3.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, q6, "Q6_K").ExitCode);
        var refused = CliRunner.Run("quantize", q6, q3, "Q3_K_M");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--allow-requantize", refused.Error);
        Assert.False(File.Exists(q3));
        var allowed = CliRunner.Run("quantize", q6, q3, "Q3_K_M", "--allow-requantize");
        Assert.True(allowed.ExitCode == 0, allowed.Error);
        Assert.Contains("warning: requantizing", allowed.Error);
    }

    [Fact]
    public void ACorruptImportanceMatrixIsAnErrorAndWritesNothing()
    {
        string bad = PathOf("bad.dat"), output = PathOf("out.gguf");
        File.WriteAllBytes(bad, [1, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3]);
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_K_M", "--imatrix", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(bad, r.Error);
        Assert.False(File.Exists(output));
        var missing = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_K_M", "--imatrix", PathOf("missing.gguf"));
        Assert.Equal(2, missing.ExitCode);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ALegacyTypeThatDoesNotFitTheRowsIsAnErrorUnlessTheTensorIsOverridden()
    {
        string output = PathOf("q4_0.gguf");
        var r = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_0");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ffn_down", r.Error);
        Assert.False(File.Exists(output));
        var ok = CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_0", "--tensor-type", "ffn_down=f16");
        Assert.True(ok.ExitCode == 0, ok.Error);
        using var file = GgufFile.Open(output);
        Assert.Equal(GgmlType.F16, file.GetTensor("blk.2.ffn_down.weight").Type);
        Assert.Equal(2, CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_0", "--tensor-type", "ffn_down").ExitCode);
        Assert.Equal(2, CliRunner.Run("quantize", RepoPaths.Stories260K, output, "Q4_0", "--tensor-type", "ffn_down=iq2_xs").ExitCode);
    }

    /// <summary>imatrix writes both formats; quantize reads either and records the matrix in the output's metadata.</summary>
    [Fact]
    public void ImatrixFeedsQuantize()
    {
        string gguf = PathOf("imatrix.gguf"), dat = PathOf("imatrix.dat");
        var r = CliRunner.Run("imatrix", "-f", Sample, "-o", gguf, "-c", "128", "--chunks", "4", "-t", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(35, r.Json.GetProperty("entries").GetInt32());
        Assert.Equal(4, r.Json.GetProperty("chunks").GetInt32());
        Assert.Equal("gguf", r.Json.GetProperty("format").GetString());
        var legacy = CliRunner.Run("imatrix", "-f", Sample, "-o", dat, "-c", "128", "--chunks", "4", "-t", "2");
        Assert.True(legacy.ExitCode == 0, legacy.Error);
        Assert.Contains("legacy", legacy.Output);

        string fromGguf = PathOf("a.gguf"), fromDat = PathOf("b.gguf"), plain = PathOf("c.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, fromGguf, "Q3_K_M", "--imatrix", gguf).ExitCode);
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, fromDat, "Q3_K_M", "--imatrix", dat).ExitCode);
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, plain, "Q3_K_M").ExitCode);
        using var a = GgufFile.Open(fromGguf);
        using var b = GgufFile.Open(fromDat);
        using var c = GgufFile.Open(plain);
        Assert.Equal(gguf, a.GetString("quantize.imatrix.file"));
        Assert.Equal(35, a.GetInteger("quantize.imatrix.entries_count"));
        Assert.Equal(4, a.GetInteger("quantize.imatrix.chunks_count"));
        // Both formats carry the same mean squares (up to float rounding of the legacy scaling), so the tensors match,
        // and the matrix changes the quantization.
        var t = "blk.1.ffn_up.weight";
        Assert.Equal(a.GetTensorBytes(a.GetTensor(t)).ToArray(), b.GetTensorBytes(b.GetTensor(t)).ToArray());
        Assert.NotEqual(a.GetTensorBytes(a.GetTensor(t)).ToArray(), c.GetTensorBytes(c.GetTensor(t)).ToArray());
    }

    [Fact]
    public void ImatrixRefusesTooLittleTextAndBadOptions()
    {
        string output = PathOf("im.gguf");
        string tiny = PathOf("tiny.txt");
        File.WriteAllText(tiny, "Once upon a time.");
        Assert.Equal(2, CliRunner.Run("imatrix", "-f", tiny, "-o", output).ExitCode);
        Assert.Equal(2, CliRunner.Run("imatrix", "-f", Sample, "-o", output, "--output-format", "json").ExitCode);
        Assert.Equal(2, CliRunner.Run("imatrix", "-f", Sample, "-o", Path.Combine(_folder, "missing", "im.gguf")).ExitCode);
        Assert.False(File.Exists(output));
    }
    /// <summary>kld: zero against itself, positive against a quantized copy, with the quantized copy's perplexity.</summary>
    [Fact]
    public void KldMeasuresWhatQuantizingCost()
    {
        string q = PathOf("q3.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, q, "Q3_K_M").ExitCode);
        var self = CliRunner.Run("kld", "--candidate", RepoPaths.Stories260K, "-f", Sample, "-c", "256", "--chunks", "2", "--json");
        Assert.True(self.ExitCode == 0, self.Error);
        Assert.Equal(0, self.Json.GetProperty("mean").GetDouble(), 9);
        Assert.Equal(1, self.Json.GetProperty("top1_agreement").GetDouble());
        var r = CliRunner.Run("kld", "--candidate", q, "-f", Sample, "-c", "256", "--chunks", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        double mean = r.Json.GetProperty("mean").GetDouble();
        Assert.InRange(mean, 1e-4, 1);
        Assert.True(r.Json.GetProperty("p99").GetDouble() >= r.Json.GetProperty("median").GetDouble());
        Assert.InRange(r.Json.GetProperty("top1_agreement").GetDouble(), 0.5, 1);
        Assert.Equal(self.Json.GetProperty("base_perplexity").GetDouble(), r.Json.GetProperty("base_perplexity").GetDouble(), 9);
        Assert.Equal(2, CliRunner.Run("kld", "--candidate", PathOf("missing.gguf"), "-f", Sample).ExitCode);
    }
}
