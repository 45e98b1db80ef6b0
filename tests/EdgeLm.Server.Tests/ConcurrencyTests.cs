using System.Text.Json.Nodes;

namespace EdgeLm.Server.Tests;

/// <summary>Many streams at once through the bounded session pool; cancelled streams give their session back.</summary>
[Collection("server")]
public sealed class ConcurrencyTests(ServerFixture server)
{
    private static readonly string[] Prompts = ["Tell me about a dog.", "Lily had a red ball.", "The sun came up.", "Tim was sad."];

    private static string Body(string prompt, int maxTokens, int? bannedToken = null)
    {
        var body = new JsonObject
        {
            ["model"] = "stories260K",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["temperature"] = 0,
            ["max_tokens"] = maxTokens,
            ["stream"] = true,
        };
        if (bannedToken is int banned)
            body["logit_bias"] = new JsonObject { [banned.ToString(System.Globalization.CultureInfo.InvariantCulture)] = -100 };
        return body.ToJsonString();
    }

    private async Task<string> StreamAsync(string prompt, int maxTokens, int? bannedToken = null)
    {
        using var response = await server.Http.SendAsync(SseClient.Post("/v1/chat/completions", Body(prompt, maxTokens, bannedToken)), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var events = await SseClient.ReadEventsAsync(response);
        Assert.Equal("length", (string?)events[^1]["choices"]![0]!["finish_reason"]);
        return SseClient.Content(events);
    }

    [Fact]
    public async Task Sixteen_concurrent_streams_all_give_the_sequential_greedy_output()
    {
        var expected = new Dictionary<string, string>();
        foreach (string prompt in Prompts)
            expected[prompt] = await StreamAsync(prompt, 20);
        // Different prompts, different stories: a mix-up between concurrent requests would show.
        Assert.True(expected.Values.Distinct().Count() >= 3);

        var requests = Enumerable.Range(0, 16).Select(i => Prompts[i % Prompts.Length]).ToList();
        var replies = await Task.WhenAll(requests.Select(p => StreamAsync(p, 20)));
        for (int i = 0; i < requests.Count; i++)
            Assert.Equal(expected[requests[i]], replies[i]);
        Assert.Equal(0, server.Runner.Sessions.Busy);
        Assert.Equal(0, server.Runner.Sessions.Waiting);
    }

    [Fact]
    public async Task Clients_that_disconnect_mid_stream_cancel_their_generation_and_free_their_session()
    {
        // With end-of-text banned (logit_bias -100) a generation cannot end before max_tokens: each of these runs
        // for 900 tokens unless it is cancelled, so a disconnect after three chunks always lands mid-generation.
        const int MaxTokens = 900;
        int eos = server.Runner.Model.Tokenizer.EosId;
        Assert.True(eos >= 0);
        string full = await StreamAsync(Prompts[1], MaxTokens, eos);
        Assert.True(full.Length > 1000, $"a 900-token story should be long, got {full.Length} characters");

        long cancelledBefore = server.Runner.Statistics.Cancelled;
        long completedBefore = server.Runner.Statistics.Generations;
        // A raw socket, closed mid-stream, as a browser tab or a killed curl does. (HttpClient would instead drain up
        // to 1 MB of the response on dispose to reuse the connection, which is not a disconnect.)
        var cancelled = Enumerable.Range(0, 6).Select(i => StreamAndHangUpAsync(Body(Prompts[i % 4], MaxTokens, eos), contentChunks: 3));
        await Task.WhenAll(cancelled);

        // Hang guard only: the generations end as soon as the server sees the disconnects.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((server.Runner.Sessions.Busy > 0 || server.Runner.Sessions.Waiting > 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(0, server.Runner.Sessions.Busy);
        Assert.Equal(0, server.Runner.Sessions.Waiting);
        Assert.Equal((6L, completedBefore), (server.Runner.Statistics.Cancelled - cancelledBefore, server.Runner.Statistics.Generations));
        // And the pool serves new requests.
        Assert.Equal(await StreamAsync(Prompts[0], 20), await StreamAsync(Prompts[0], 20));
    }

    /// <summary>Posts a streaming chat request over a bare TCP connection, reads until some content arrived, then closes the socket.</summary>
    private async Task StreamAndHangUpAsync(string body, int contentChunks)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        byte[] payload = System.Text.Encoding.UTF8.GetBytes(body);
        string head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nContent-Type: application/json\r\n" +
                      $"Content-Length: {payload.Length}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(payload);
        using var reader = new StreamReader(stream, leaveOpen: true);
        Assert.StartsWith("HTTP/1.1 200", await reader.ReadLineAsync());
        int seen = 0;
        while (seen < contentChunks && await reader.ReadLineAsync() is { } line)
        {
            Assert.DoesNotContain("finish_reason\":\"length", line, StringComparison.Ordinal);
            if (line.Contains("\"content\":\"", StringComparison.Ordinal) && !line.Contains("\"content\":\"\"", StringComparison.Ordinal))
                seen++;
        }
        Assert.Equal(contentChunks, seen);
        tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        tcp.Close();
    }
}
