using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

public sealed class SynthCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-cli-synth-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Vocab(string name) => RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf");

    [Theory]
    [InlineData("llama", "f16", "llama-spm")]
    [InlineData("qwen2", "bf16", "gpt-2")]
    public void WritesAModelThatRuns(string arch, string type, string vocab)
    {
        string path = Path.Combine(_folder, $"{arch}.gguf");
        var r = CliRunner.Run("synth", "-o", path, "--arch", arch, "--vocab-from", Vocab(vocab), "--embd", "64", "--layers", "2",
            "--heads", "4", "--kv-heads", "2", "--ff", "128", "--type", type, "--std", "0.1", "--seed", "7", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(path, r.Json.GetProperty("path").GetString());
        Assert.True(r.Json.GetProperty("parameters").GetInt64() > 64 * 128);

        var inspect = CliRunner.Run("inspect", path, "--json");
        Assert.Equal(arch, inspect.Json.GetProperty("metadata").GetProperty("general.architecture").GetString());
        var run = CliRunner.Run("run", "-m", path, "-p", "Hello", "-n", "4", "--temp", "0", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(4, run.Json.GetProperty("tokens").GetArrayLength());
    }

    [Theory]
    [InlineData("--heads", "5")]
    [InlineData("--type", "q4_0")]
    [InlineData("--arch", "gpt2")]
    [InlineData("--std", "-1")]
    public void BadShapesAreUsageErrorsAndWriteNothing(string flag, string value)
    {
        string path = Path.Combine(_folder, "bad.gguf");
        var args = new List<string> { "synth", "-o", path, "--vocab-from", Vocab("llama-spm"), "--embd", "64", "--layers", "1", "--heads", "4", "--ff", "128" };
        args.AddRange([flag, value]);
        var r = CliRunner.Run([.. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.NotEmpty(r.Error);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AVocabularySourceWithoutTokensIsRefused()
    {
        string path = Path.Combine(_folder, "novocab.gguf");
        string source = Path.Combine(_folder, "first.gguf");
        Assert.Equal(0, CliRunner.Run("synth", "-o", source, "--vocab-from", Vocab("gpt-2"), "--embd", "64", "--layers", "1", "--heads", "4", "--ff", "64").ExitCode);
        // A model file carries a vocabulary, so it is a valid source; a missing file is not.
        Assert.Equal(2, CliRunner.Run("synth", "-o", path, "--vocab-from", Path.Combine(_folder, "missing.gguf"), "--embd", "64", "--layers", "1", "--heads", "4", "--ff", "64").ExitCode);
        Assert.Equal(0, CliRunner.Run("synth", "-o", path, "--vocab-from", source, "--embd", "64", "--layers", "1", "--heads", "4", "--ff", "64").ExitCode);
    }

    [Fact]
    public void TakesTheVocabularyFromAHuggingFaceTokenizerJson()
    {
        string json = Path.Combine(RepoPaths.Cache, "hf-tokenizers", "qwen3", "tokenizer.json");
        Assert.True(File.Exists(json), $"{json} is missing: run scripts/fetch-tokenizers.sh");
        string path = Path.Combine(_folder, "qwen-vocab.gguf");
        var r = CliRunner.Run("synth", "-o", path, "--arch", "qwen2", "--vocab-from", json, "--embd", "32", "--layers", "1",
            "--heads", "2", "--kv-heads", "1", "--ff", "64", "--tied");
        Assert.True(r.ExitCode == 0, r.Error);
        var tokens = CliRunner.Run("tokenize", "-m", path, "--json", "<|im_start|>user\nHello");
        Assert.True(tokens.ExitCode == 0, tokens.Error);
        Assert.Equal(151644, tokens.Json.GetProperty("tokens")[0].GetInt32());
    }
}
