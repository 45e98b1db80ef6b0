using EdgeLm.Gguf;
using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

/// <summary><c>edgelm prune</c> on the bundled stories260K.</summary>
public sealed class PruneCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-cli-prune-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static string Sample => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    [Fact]
    public void MagnitudePruningZeroesHalfOfEveryMatrixAndTheResultRuns()
    {
        string output = PathOf("m.gguf");
        var r = CliRunner.Run("prune", "-m", RepoPaths.Stories260K, "-o", output, "--method", "magnitude", "--sparsity", "0.5", "-t", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal(output, json.GetProperty("path").GetString());
        Assert.Equal("magnitude", json.GetProperty("method").GetString());
        Assert.Equal(35, json.GetProperty("tensors").GetArrayLength()); // 7 matrices x 5 blocks
        long elements = json.GetProperty("elements").GetInt64(), pruned = json.GetProperty("pruned").GetInt64();
        Assert.Equal(elements / 2, pruned); // every row of stories260K has an even length
        Assert.Equal(new FileInfo(output).Length, json.GetProperty("output_bytes").GetInt64());
        var run = CliRunner.Run("run", "-m", output, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(8, run.Json.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void WandaPrintsATablePerTensorAndMatchesWandaFromAnImatrixFile()
    {
        string fromText = PathOf("w.gguf"), fromMatrix = PathOf("wi.gguf"), matrix = PathOf("im.gguf");
        var r = CliRunner.Run("prune", "-o", fromText, "--method", "wanda", "--pattern", "2:4", "-f", Sample, "-c", "128", "-t", "2");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("wanda pruning, 2:4", r.Output);
        Assert.Contains("blk.4.ffn_down.weight", r.Output);
        Assert.Contains("50.0 %", r.Output);
        Assert.Contains($"wrote {fromText}", r.Output);
        Assert.Equal(0, CliRunner.Run("imatrix", "-f", Sample, "-o", matrix, "-c", "128", "-t", "2").ExitCode);
        var i = CliRunner.Run("prune", "-o", fromMatrix, "--method", "wanda", "--pattern", "2:4", "--imatrix", matrix);
        Assert.True(i.ExitCode == 0, i.Error);
        // The same statistics must choose the same weights.
        Assert.Equal(File.ReadAllBytes(fromText), File.ReadAllBytes(fromMatrix));
    }

    [Fact]
    public void WidthPruningWritesASmallerModelThatRuns()
    {
        string output = PathOf("narrow.gguf");
        var r = CliRunner.Run("prune", "-o", output, "--method", "width", "--ffn", "0.75", "--heads", "0.5", "--drop-layers", "1", "-f", Sample, "-c", "128", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal(128, json.GetProperty("feed_forward_length").GetProperty("after").GetInt32());
        Assert.Equal(4, json.GetProperty("head_count").GetProperty("after").GetInt32());
        Assert.Equal(2, json.GetProperty("head_count_kv").GetProperty("after").GetInt32());
        Assert.Equal(4, json.GetProperty("block_count").GetProperty("after").GetInt32());
        Assert.Equal(1, json.GetProperty("dropped_layers").GetArrayLength());
        Assert.All(json.GetProperty("layers").EnumerateArray(), l => Assert.Equal(44, l.GetProperty("ffn_channels_removed").GetArrayLength()));
        using (var file = GgufFile.Open(output))
        {
            Assert.Equal(128, file.GetInteger("llama.feed_forward_length"));
            Assert.Equal(8, file.GetInteger("llama.attention.key_length"));
            Assert.True(file.Length < new FileInfo(RepoPaths.Stories260K).Length);
        }
        var run = CliRunner.Run("run", "-m", output, "-p", "Once upon a time", "-n", "8", "--temp", "0", "--json");
        Assert.True(run.ExitCode == 0, run.Error);

        var human = CliRunner.Run("prune", "-o", PathOf("narrow2.gguf"), "--method", "width", "--heads", "4", "--drop-layers", "1", "-f", Sample, "-c", "128");
        Assert.True(human.ExitCode == 0, human.Error);
        Assert.Contains("heads 8 -> 4 (KV 4 -> 2), layers 5 -> 4", human.Output);
        Assert.Matches(@"layer \d removed \(input/output cosine similarity", human.Output);
        Assert.Contains("parameters", human.Output);
    }

    [Theory]
    [InlineData("--method", "magnitude", "--sparsity", "1.5")]
    [InlineData("--method", "magnitude", "--sparsity", "0")]
    [InlineData("--method", "sparsegpt")]
    [InlineData("--method", "magnitude", "--pattern", "3:3")]
    [InlineData("--method", "magnitude", "--pattern", "2:4", "--sparsity", "0.3")]
    [InlineData("--method", "magnitude", "--ffn", "0.75")]
    [InlineData("--method", "wanda")]
    [InlineData("--method", "width", "--ffn", "0.75")]
    [InlineData("--method", "width", "-f", "SAMPLE")]
    [InlineData("--method", "width", "--ffn", "1.5", "-f", "SAMPLE")]
    [InlineData("--method", "width", "--heads", "3", "-f", "SAMPLE")]
    [InlineData("--method", "width", "--heads", "0", "-f", "SAMPLE")]
    [InlineData("--method", "width", "--drop-layers", "5", "-f", "SAMPLE", "-c", "128")]
    [InlineData("--method", "width", "--sparsity", "0.5", "--ffn", "0.5", "-f", "SAMPLE")]
    [InlineData("--method", "magnitude", "--sparsity", "half")]
    public void BadFlagsAreUsageErrorsAndWriteNothing(params string[] flags)
    {
        string output = PathOf("bad.gguf");
        var r = CliRunner.Run(["prune", "-o", output, .. flags.Select(f => f == "SAMPLE" ? Sample : f)]);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Error}");
        Assert.StartsWith("edgelm:", r.Error);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void MissingFilesAreUsageErrors()
    {
        var r = CliRunner.Run("prune", "-m", PathOf("none.gguf"), "-o", PathOf("x.gguf"), "--method", "magnitude");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("does not exist", r.Error);
        r = CliRunner.Run("prune", "-o", PathOf("no-folder/x.gguf"), "--method", "magnitude");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("folder", r.Error);
        r = CliRunner.Run("prune", "-o", PathOf("x.gguf"), "--method", "wanda", "-f", PathOf("none.txt"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("none.txt", r.Error);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AQuantizedModelOrAPatternThatDoesNotFitIsAnErrorAndWritesNothing()
    {
        string quantized = PathOf("q6.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", RepoPaths.Stories260K, quantized, "Q6_K").ExitCode);
        string output = PathOf("out.gguf");
        var r = CliRunner.Run("prune", "-m", quantized, "-o", output, "--method", "wanda", "-f", Sample, "-c", "128");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("quantized", r.Error);
        Assert.Contains("F32, F16 or BF16", r.Error);
        r = CliRunner.Run("prune", "-o", output, "--method", "magnitude", "--pattern", "4:8");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("groups of 8", r.Error);
        Assert.False(File.Exists(output));
        Assert.Equal([quantized], Directory.GetFiles(_folder));
    }
}
