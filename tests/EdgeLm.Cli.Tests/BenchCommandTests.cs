using System.Text.Json;

namespace EdgeLm.Cli.Tests;

public class BenchCommandTests
{
    private static void AssertSummary(JsonElement summary, int repetitions, double reportedMedian)
    {
        double[] runs = summary.GetProperty("runs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(repetitions, runs.Length);
        Assert.All(runs, v => Assert.True(v > 0 && double.IsFinite(v), $"run value {v}"));
        double min = summary.GetProperty("min").GetDouble();
        double max = summary.GetProperty("max").GetDouble();
        double median = summary.GetProperty("median").GetDouble();
        Assert.Equal(runs.Min(), min);
        Assert.Equal(runs.Max(), max);
        Assert.InRange(median, min, max);
        Assert.Equal(median, reportedMedian);
    }

    [Fact]
    public void JsonReportsPositiveConsistentFigures()
    {
        var r = CliRunner.Run("bench", "-p", "8", "-n", "4", "-r", "3", "--ttft-prompt", "5", "-t", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;

        Assert.Equal(1, json.GetProperty("threads").GetInt32());
        Assert.Equal(8, json.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4, json.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(5, json.GetProperty("ttft_prompt_tokens").GetInt32());
        Assert.Equal(3, json.GetProperty("repetitions").GetInt32());

        double pp = json.GetProperty("prompt_tokens_per_second").GetDouble();
        double tg = json.GetProperty("tokens_per_second").GetDouble();
        double ttft = json.GetProperty("time_to_first_token_seconds").GetDouble();
        Assert.True(pp > 0, $"pp {pp}");
        Assert.True(tg > 0, $"tg {tg}");
        Assert.True(ttft > 0, $"ttft {ttft}");
        AssertSummary(json.GetProperty("prompt"), 3, pp);
        AssertSummary(json.GetProperty("generation"), 3, tg);
        AssertSummary(json.GetProperty("time_to_first_token"), 3, ttft);

        // The context holds every test's tokens; the peak RSS at least holds the model file it mapped and read.
        int context = json.GetProperty("context_length").GetInt32();
        Assert.True(context >= 8 && context >= 1 + 4, $"context {context}");
        Assert.True(json.GetProperty("kv_cache_bytes").GetInt64() > 0);
        long fileBytes = json.GetProperty("file_bytes").GetInt64();
        Assert.Equal(new FileInfo(json.GetProperty("model").GetString()!).Length, fileBytes);
        Assert.True(json.GetProperty("peak_rss_bytes").GetInt64() > fileBytes);
        Assert.True(json.GetProperty("load_seconds").GetDouble() > 0);
    }

    [Fact]
    public void TextOutputNamesEveryMeasurement()
    {
        var r = CliRunner.Run("bench", "-p", "4", "-n", "2", "-r", "1", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("pp4", r.Output);
        Assert.Contains("tg2", r.Output);
        Assert.Contains("ttft", r.Output);
        Assert.Contains("peak RSS", r.Output);
        Assert.Contains("1 threads", r.Output);
    }

    [Theory]
    [InlineData("-p", "0")]
    [InlineData("-n", "-1")]
    [InlineData("-r", "0")]
    [InlineData("--ttft-prompt", "0")]
    [InlineData("-t", "0")]
    public void BadCountsAreUsageErrors(string flag, string value)
    {
        var r = CliRunner.Run("bench", flag, value, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("must be", r.Error);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void AMissingModelIsAUsageError()
    {
        var r = CliRunner.Run("bench", "-m", "no/such/model.gguf");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no/such/model.gguf", r.Error);
    }
}
