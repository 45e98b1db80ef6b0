using EdgeLm.Gguf;
using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

/// <summary><c>edgelm fit</c> on the bundled stories260K (budgets around 1.5 MB: the model is 1.2 MB in F32).</summary>
public sealed class FitCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-cli-fit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static string Sample => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    [Fact]
    public void FitsWithinTheBudgetReportsItAndTheResultRuns()
    {
        string output = PathOf("fit.gguf");
        var r = CliRunner.Run("fit", "-m", RepoPaths.Stories260K, "--memory", "1.7MB", "--context", "256", "--margin", "0", "-o", output,
            "-f", Sample, "-c", "128", "-t", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal(output, json.GetProperty("path").GetString());
        Assert.Equal(1_700_000, json.GetProperty("budget").GetInt64());
        Assert.Equal("measured", json.GetProperty("sensitivity").GetString());
        var memory = json.GetProperty("memory");
        long total = memory.GetProperty("total").GetInt64();
        Assert.InRange(total, json.GetProperty("minimum").GetInt64(), 1_700_000);
        Assert.Equal(new FileInfo(output).Length, memory.GetProperty("weights").GetInt64());
        Assert.Equal(total, new[] { "weights", "kv_cache", "activations", "logits", "tokenizer", "margin" }.Sum(k => memory.GetProperty(k).GetInt64()));
        using (var file = GgufFile.Open(output))
        {
            foreach (var t in json.GetProperty("tensors").EnumerateArray())
                Assert.Equal(t.GetProperty("type").GetString(), file.GetTensor(t.GetProperty("name").GetString()!).Type.ToString());
        }
        var kld = json.GetProperty("kld");
        Assert.InRange(kld.GetProperty("mean").GetDouble(), 0, 0.1);
        Assert.True(kld.GetProperty("perplexity").GetDouble() > 1);

        var run = CliRunner.Run("run", "-m", output, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(8, run.Json.GetProperty("tokens").GetArrayLength());
    }

    /// <summary>
    /// <c>--memory Q4_K_M</c> fits into what the Q4_K_M file would need; <c>--compare</c> reports the mixes beside the fit,
    /// quantized with the same importance matrix, and on held-back text the fit's KL divergence is no worse at that size.
    /// </summary>
    [Fact]
    public void AMixAsTheBudgetAndComparedMixes()
    {
        string text = File.ReadAllText(Sample);
        int middle = text.IndexOf(". ", text.Length / 2, StringComparison.Ordinal) + 2;
        File.WriteAllText(PathOf("calibration.txt"), text[..middle]);
        File.WriteAllText(PathOf("held-back.txt"), text[middle..]);
        string output = PathOf("q4km-sized.gguf");
        var r = CliRunner.Run("fit", "--memory", "q4_k_m", "--context", "256", "--margin", "0", "-o", output, "-f", PathOf("calibration.txt"),
            "--eval-file", PathOf("held-back.txt"), "-c", "128", "--compare", "Q4_K_M,Q3_K_M,Q4_0", "-t", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        var compared = json.GetProperty("compare").EnumerateArray().ToDictionary(c => c.GetProperty("type").GetString()!);
        Assert.Equal(3, compared.Count);
        var q4km = compared["Q4_K_M"];
        Assert.Equal(q4km.GetProperty("memory").GetInt64(), json.GetProperty("budget").GetInt64());
        Assert.True(q4km.GetProperty("fits").GetBoolean());
        Assert.True(new FileInfo(output).Length <= q4km.GetProperty("file_bytes").GetInt64());
        Assert.True(json.GetProperty("kld").GetProperty("mean").GetDouble() <= q4km.GetProperty("kld").GetProperty("mean").GetDouble());
        Assert.True(compared["Q3_K_M"].GetProperty("memory").GetInt64() < q4km.GetProperty("memory").GetInt64());
        // stories260K's 172-wide ffn_down rows cannot be Q4_0 (llama.cpp refuses too): reported, not fatal.
        Assert.Contains("172", compared["Q4_0"].GetProperty("error").GetString());
        Assert.Equal(2, Directory.GetFiles(_folder, "*.txt").Length);
    }

    [Fact]
    public void HumanOutputShowsTheChoiceAndTheBreakdown()
    {
        var r = CliRunner.Run("fit", "--memory", "1.5MiB", "--context", "128", "--margin", "0", "-o", PathOf("h.gguf"), "-t", "2");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("blk.0.attn_q.weight", r.Output);
        Assert.Contains("KV cache", r.Output);
        Assert.Contains("of 1.50 MiB budget", r.Output);
        Assert.Contains("relative", r.Output);
        Assert.True(File.Exists(PathOf("h.gguf")));
    }

    [Fact]
    public void DryRunWritesNothing()
    {
        var r = CliRunner.Run("fit", "--memory", "1.5MiB", "--context", "128", "--margin", "0", "-o", PathOf("dry.gguf"), "--dry-run", "--json", "-t", "2");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, r.Json.GetProperty("path").ValueKind);
        Assert.False(File.Exists(PathOf("dry.gguf")));
    }

    [Fact]
    public void ATooSmallBudgetIsAClearErrorAndWritesNothing()
    {
        var r = CliRunner.Run("fit", "--memory", "300KB", "--context", "256", "--margin", "0", "-o", PathOf("small.gguf"), "-t", "2");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("too small", r.Error);
        Assert.Matches(@"need [0-9.]+ [KM]iB \([0-9]+ bytes\)", r.Error);
        Assert.False(File.Exists(PathOf("small.gguf")));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Theory]
    [InlineData("--memory", "12XB")]
    [InlineData("--memory", "-1MB")]
    [InlineData("--memory", "0")]
    [InlineData("--margin", "lots")]
    [InlineData("--context", "0")]
    [InlineData("--types", "q4_k,q9_k")]
    [InlineData("--sensitivity", "guess")]
    [InlineData("--sensitivity", "measured")]
    [InlineData("--memory", "Q9_K")]
    [InlineData("--memory", "F16")]
    [InlineData("--compare", "Q4_K_M")]
    [InlineData("--eval-file", "held.txt")]
    [InlineData("--cache-type", "q4_0")]
    [InlineData("--cache-type", "q8_0")]
    [InlineData("-m", "/no/such/model.gguf")]
    [InlineData("-o", "/no/such/folder/out.gguf")]
    public void BadUsageIsExitCodeTwo(string option, string value)
    {
        var args = new List<string> { "fit", "--memory", "1MiB", "-o", PathOf("u.gguf") };
        int at = args.IndexOf(option);
        if (at >= 0)
            args[at + 1] = value;
        else
            args.AddRange([option, value]);
        var r = CliRunner.Run([.. args]);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Error}");
        Assert.StartsWith("edgelm: ", r.Error);
        Assert.False(File.Exists(PathOf("u.gguf")));
    }

    [Fact]
    public void MemoryIsRequired()
    {
        var r = CliRunner.Run("fit", "-o", PathOf("x.gguf"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--memory", r.Error);
    }
}
