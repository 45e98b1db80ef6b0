using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

/// <summary>
/// <c>--cache-type f16|q8_0</c> on every verb that opens a session: bad values and models whose heads cannot hold Q8_0
/// blocks are usage errors (exit 2); on a model with 64-wide heads q8_0 runs and takes 53% of F16's cache memory.
/// </summary>
public sealed class CacheTypeOptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-cli-cache-").FullName;
    private readonly Lazy<string> _model;

    public CacheTypeOptionTests() => _model = new(WriteModel);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A random llama with 64-wide heads (2 heads of 64 on one KV head) and a real vocabulary.</summary>
    private string WriteModel()
    {
        string path = Path.Combine(_folder, "heads64.gguf");
        var r = CliRunner.Run("synth", "-o", path, "--vocab-from", RepoPaths.Fixture("vocab", "ggml-vocab-llama-spm.gguf"),
            "--embd", "128", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--ff", "128", "--std", "0.1", "--seed", "3", "--ctx", "512");
        Assert.True(r.ExitCode == 0, r.Error);
        return path;
    }

    private string Corpus() => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    public static TheoryData<string[]> Verbs() => new()
    {
        new[] { "run", "-p", "Hi", "-n", "1" },
        new[] { "logits", "-p", "Hi" },
        new[] { "perplexity", "-f", "missing-is-not-reached.txt" },
        new[] { "kld", "--candidate", "models/stories260K.gguf", "-f", "missing-is-not-reached.txt" },
        new[] { "bench", "-p", "4", "-n", "2", "-r", "1" },
        new[] { "serve", "--port", "0" },
        new[] { "chat" },
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public void AnUnknownCacheTypeIsAUsageError(string[] verb)
    {
        var r = CliRunner.Run([.. verb, "--cache-type", "q4_0"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--cache-type must be f16 or q8_0, got 'q4_0'", r.Error);
    }

    /// <summary>stories260K's heads are 8 wide: no 32-element block fits, and every verb says so before it starts.</summary>
    [Theory]
    [InlineData("run", "-p", "Hi", "-n", "1")]
    [InlineData("bench", "-p", "4", "-n", "2", "-r", "1")]
    [InlineData("chat")]
    [InlineData("serve", "--port", "0")]
    public void NarrowHeadsAreAUsageError(params string[] verb)
    {
        var r = CliRunner.Run([.. verb, "-m", RepoPaths.Stories260K, "--cache-type", "q8_0"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("heads are 8 wide", r.Error);
    }

    [Fact]
    public void BenchReportsTheCacheTypeAndItsSize()
    {
        long Bytes(string type)
        {
            var r = CliRunner.Run("bench", "-m", _model.Value, "-p", "8", "-n", "2", "-r", "1", "--ttft-prompt", "4", "-t", "1", "--json", "--cache-type", type);
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal(type, r.Json.GetProperty("cache_type").GetString());
            return r.Json.GetProperty("kv_cache_bytes").GetInt64();
        }
        long f16 = Bytes("f16"), q8 = Bytes("q8_0");
        Assert.Equal(f16 * 34 / 64, q8); // 256 positions (a multiple of 8: no padding of the F16 values)
    }

    [Fact]
    public void RunGeneratesWithAQuantizedCache()
    {
        var r = CliRunner.Run("run", "-m", _model.Value, "-p", "Once upon a time", "-n", "6", "--temp", "0", "--json", "--cache-type", "Q8_0");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(6, r.Json.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void PerplexityWithAQuantizedCacheIsCloseToF16()
    {
        double Perplexity(string type)
        {
            var r = CliRunner.Run("perplexity", "-m", _model.Value, "-f", Corpus(), "-c", "64", "--chunks", "2", "-t", "1", "--json", "--cache-type", type);
            Assert.True(r.ExitCode == 0, r.Error);
            return r.Json.GetProperty("perplexity").GetDouble();
        }
        double f16 = Perplexity("f16"), q8 = Perplexity("q8_0");
        Assert.True(double.IsFinite(q8) && q8 > 1);
        Assert.True(Math.Abs(q8 / f16 - 1) < 0.01, $"perplexity {q8} with q8_0, {f16} with f16");
    }

    /// <summary>kld of a model against itself measures only the candidate's cache type: zero with f16, small but not zero with q8_0.</summary>
    [Fact]
    public void KldAgainstItselfMeasuresTheCacheType()
    {
        double Mean(string type)
        {
            var r = CliRunner.Run("kld", "-m", _model.Value, "--candidate", _model.Value, "-f", Corpus(), "-c", "64", "--chunks", "2",
                "-t", "1", "--json", "--cache-type", type);
            Assert.True(r.ExitCode == 0, r.Error);
            return r.Json.GetProperty("mean").GetDouble();
        }
        Assert.Equal(0, Mean("f16"), 1e-9);
        double q8 = Mean("q8_0");
        Assert.True(q8 > 0 && q8 < 2e-3, $"mean KL {q8}");
    }
}
