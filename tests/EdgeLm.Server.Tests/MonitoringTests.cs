using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EdgeLm.Server.Tests;

/// <summary>/health, /metrics and plain completions.</summary>
[Collection("server")]
public sealed partial class MonitoringTests(ServerFixture server)
{
    [Fact]
    public async Task Metrics_count_requests_and_tokens_in_prometheus_text()
    {
        const string body = """{"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, "temperature": 0}""";
        double before = Sample(await MetricsAsync(), "edgelm_requests_total{endpoint=\"/v1/chat/completions\",code=\"200\"}") ;
        double tokensBefore = Sample(await MetricsAsync(), "edgelm_completion_tokens_total");
        for (int i = 0; i < 3; i++)
            (await server.Http.PostAsync("/v1/chat/completions", new StringContent(body))).EnsureSuccessStatusCode();
        await server.Http.PostAsync("/v1/chat/completions", new StringContent("{}"));

        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(before + 3, Sample(text, "edgelm_requests_total{endpoint=\"/v1/chat/completions\",code=\"200\"}"));
        Assert.True(Sample(text, "edgelm_requests_total{endpoint=\"/v1/chat/completions\",code=\"400\"}") >= 1);
        Assert.Equal(tokensBefore + 15, Sample(text, "edgelm_completion_tokens_total"));
        Assert.True(Sample(text, "edgelm_tokens_per_second") > 0);
        Assert.Equal(0, Sample(text, "edgelm_queue_length"));
        Assert.Equal(4, Sample(text, "edgelm_sessions"));
        // Every sample line belongs to a declared metric.
        var declared = TypeLine().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
            Assert.Contains(line.Split(['{', ' '])[0], declared);
    }

    [Fact]
    public async Task Health_reports_the_model_and_the_pool()
    {
        var health = await server.Http.GetFromJsonAsync<JsonObject>("/health");
        Assert.Equal("ok", (string?)health!["status"]);
        Assert.Equal("stories260K", (string?)health["model"]);
        Assert.Equal(ServerFixture.ContextLength, (int)health["context_length"]!);
        Assert.Equal("default (ChatML)", (string?)health["chat_template"]);
        Assert.Equal(4, (int)health["sessions"]!);
    }

    [Fact]
    public async Task Completions_continue_the_prompt_and_stream_the_same_text()
    {
        const string body = """{"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0}""";
        using var whole = await server.Http.PostAsync("/v1/completions", new StringContent(body));
        var json = JsonNode.Parse(await whole.Content.ReadAsStringAsync())!;
        string text = (string)json["choices"]![0]!["text"]!;
        Assert.Equal("length", (string?)json["choices"]![0]!["finish_reason"]);
        Assert.Equal(12, (int)json["usage"]!["completion_tokens"]!);
        Assert.StartsWith(",", text);

        using var streamed = await server.Http.SendAsync(SseClient.Post("/v1/completions", body.TrimEnd('}') + ", \"stream\": true}"), HttpCompletionOption.ResponseHeadersRead);
        var events = await SseClient.ReadEventsAsync(streamed);
        Assert.Equal(text, string.Concat(events.Select(e => (string?)e["choices"]![0]!["text"])));
        Assert.Equal("length", (string?)events[^1]["choices"]![0]!["finish_reason"]);
    }

    private async Task<string> MetricsAsync() => await server.Http.GetStringAsync("/metrics");

    private static double Sample(string text, string name)
    {
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    [GeneratedRegex(@"^# TYPE (\S+) (counter|gauge)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
