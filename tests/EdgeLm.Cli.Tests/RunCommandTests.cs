using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

public class RunCommandTests
{
    [Fact]
    public void GreedyRunFromBosMatchesTheGoldenFile()
    {
        var r = CliRunner.Run("run", "--temp", "0", "-n", "64", "-p", "", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal([1], json.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Golden.Stories260KTokens, json.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Golden.Stories260KText, json.GetProperty("text").GetString());
        Assert.True(json.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.True(json.GetProperty("prompt_tokens_per_second").GetDouble() > 0);
    }

    [Fact]
    public void TextOutputStreamsThePromptAndTheContinuation()
    {
        var r = CliRunner.Run("run", "--temp", "0", "-n", "8", "-p", "Once upon a time", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.StartsWith("Once upon a time", r.Output);
        Assert.True(r.Output.TrimEnd().Length > "Once upon a time".Length);
        Assert.Contains("tok/s", r.Error);
    }

    [Fact]
    public void SeededSamplingIsReproducible()
    {
        string[] args = ["run", "-p", "Lily", "-n", "30", "--temp", "1.0", "--seed", "1234", "--json"];
        var a = CliRunner.Run(args);
        var b = CliRunner.Run(args);
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.Json.GetProperty("tokens").ToString(), b.Json.GetProperty("tokens").ToString());
    }

    [Theory]
    [InlineData("--temp", "nan")]
    [InlineData("--min-p", "2")]
    [InlineData("--top-p", "1.5")]
    [InlineData("--top-k", "-3")]
    [InlineData("-n", "-5")]
    [InlineData("-t", "0")]
    [InlineData("--repeat-penalty", "0")]
    [InlineData("--no-such-flag", "1")]
    [InlineData("--temp", "warm")]
    public void BadFlagsExitWithCode2AndSayWhy(string flag, string value)
    {
        var r = CliRunner.Run("run", "-p", "x", flag, value);
        Assert.Equal(2, r.ExitCode);
        Assert.NotEmpty(r.Error.Trim());
        Assert.Empty(r.Output);
    }

    [Fact]
    public void AMissingModelFileIsAUsageError()
    {
        var r = CliRunner.Run("run", "-m", "no/such/model.gguf", "-p", "x");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no/such/model.gguf", r.Error);
    }

    [Fact]
    public void ACorruptModelFileFailsWithCode1AndAMessage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgelm-corrupt-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(RepoPaths.Stories260K).AsSpan(0, 1000).ToArray());
        try
        {
            var r = CliRunner.Run("run", "-m", path, "-p", "x");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("error", r.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void APromptOverTheContextIsRefused()
    {
        var r = CliRunner.Run("run", "-c", "8", "-p", "Once upon a time there was a little girl named Lily who loved to play", "-n", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("context", r.Error);
    }
}
