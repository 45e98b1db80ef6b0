using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EdgeLm.Server.Tests;

/// <summary><c>edgelm serve</c> as a user runs it: a child process on a free loopback port.</summary>
public sealed partial class ServeCommandTests
{
    private static readonly string Edgelm = Path.Combine(AppContext.BaseDirectory, "edgelm.dll");

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Edgelm);
        foreach (string a in args)
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    [Fact]
    public async Task Serve_listens_on_loopback_and_answers()
    {
        using var process = Start("serve", "--port", "0", "--sessions", "1", "-c", "256", "-t", "1");
        try
        {
            // The first line of standard output says where it listens.
            var line = process.StandardOutput.ReadLineAsync();
            Assert.True(await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(60))) == line, "edgelm serve did not start within a minute");
            var match = AddressLine().Match(await line ?? "");
            Assert.True(match.Success, $"unexpected first line: {await line}");
            var address = new Uri(match.Groups[1].Value);
            Assert.Equal("127.0.0.1", address.Host);

            using var http = new HttpClient { BaseAddress = address };
            var health = await http.GetFromJsonAsync<JsonObject>("/health");
            Assert.Equal(256, (int)health!["context_length"]!);
            Assert.Equal(1, (int)health["sessions"]!);
            using var reply = await http.PostAsync("/v1/completions", new StringContent("""{"prompt": "Once upon a time", "max_tokens": 4}"""));
            Assert.True(reply.IsSuccessStatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        // The log said the model has no chat template and the default is used.
        Assert.Contains("no chat template", await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync());
    }

    [Theory]
    [InlineData("--sessions", "0")]
    [InlineData("--port", "70000")]
    [InlineData("--host", "not a host")]
    [InlineData("--queue", "-1")]
    public async Task Bad_options_are_usage_errors(string option, string value)
    {
        using var process = Start("serve", option, value);
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains(option, error);
    }

    [GeneratedRegex(@"^edgelm: serving \S+ at (http://\S+) ")]
    private static partial Regex AddressLine();
}
