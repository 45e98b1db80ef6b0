using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLm.Server;

/// <summary>JSON and server-sent-event output in the shape OpenAI clients read.</summary>
internal static class Sse
{
    /// <summary>Compact JSON that keeps non-ASCII text readable.</summary>
    public static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Starts an event stream (after which errors can only be sent as events).</summary>
    public static void Begin(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Writes one <c>data:</c> event and flushes it to the client.</summary>
    public static async Task WriteAsync(HttpResponse response, JsonNode data, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + data.ToJsonString(Json) + "\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Ends the stream the way OpenAI does.</summary>
    public static async Task DoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Writes a whole JSON response.</summary>
    public static Task WriteJsonAsync(HttpResponse response, JsonNode body, int status = 200)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return response.WriteAsync(body.ToJsonString(Json));
    }

    /// <summary>Seconds since the Unix epoch, as OpenAI's "created" fields.</summary>
    public static long UnixTime(DateTimeOffset time) => time.ToUnixTimeSeconds();
}
