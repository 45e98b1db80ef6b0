using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeLm.Server.Tests;

/// <summary>A bare server-sent-events reader for chat completion streams, to test the wire format itself.</summary>
internal static class SseClient
{
    public static HttpRequestMessage Post(string path, string json, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    /// <summary>Reads the <c>data:</c> events of a stream until <c>[DONE]</c> (which is required) and returns them.</summary>
    public static async Task<List<JsonObject>> ReadEventsAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var events = new List<JsonObject>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                Assert.Equal("", line);
                continue;
            }
            string data = line["data: ".Length..];
            if (data == "[DONE]")
                return events;
            events.Add(JsonNode.Parse(data)!.AsObject());
        }
        throw new Xunit.Sdk.XunitException("The stream ended without data: [DONE].");
    }

    /// <summary>The content deltas of chat completion chunks, joined.</summary>
    public static string Content(IEnumerable<JsonObject> chunks) =>
        string.Concat(chunks.Select(c => (string?)c["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"] ?? ""));
}
