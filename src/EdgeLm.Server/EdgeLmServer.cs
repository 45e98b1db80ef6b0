using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeLm.Runtime;
using EdgeLm.Runtime.AI;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace EdgeLm.Server;

/// <summary>
/// The OpenAI-compatible HTTP server: <c>/v1/chat/completions</c>, <c>/v1/completions</c>, <c>/v1/embeddings</c>,
/// <c>/v1/models</c>, <c>/health</c>, <c>/metrics</c> and a chat page at <c>/</c>, over one <see cref="ModelRunner"/>
/// whose session pool bounds how many requests generate at once.
/// </summary>
public static class EdgeLmServer
{
    private static readonly string[] KnownEndpoints =
        ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/health", "/metrics", "/"];

    /// <summary>Builds the web application (not started) serving <paramref name="runner"/>.</summary>
    public static WebApplication Build(ModelRunner runner, EdgeLmServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // The log is diagnostics: standard error, leaving standard output to the tool's own lines.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console =>
            console.LogToStandardErrorThreshold = LogLevel.Trace);
        // ASP.NET Core's per-request lines would drown EdgeLm's own; keep its warnings and the start-up lines.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
            if (options.Host == "localhost")
                kestrel.ListenLocalhost(options.Port);
            else if (IPAddress.TryParse(options.Host, out var address))
                kestrel.Listen(address, options.Port);
            else
                throw new ArgumentException($"--host must be an IP address or 'localhost', got '{options.Host}'.", nameof(options));
        });
        var app = builder.Build();
        var state = new ServerState(runner, options);
        var log = app.Logger;

        app.Use(async (http, next) =>
        {
            string endpoint = EndpointLabel(http.Request.Path);
            state.Metrics.RequestStarted();
            try
            {
                if (options.ApiKey is { } key && http.Request.Path.StartsWithSegments("/v1") && !Authorized(http, key))
                    throw new ApiError(401, "Missing or invalid API key: send 'Authorization: Bearer KEY'.", "authentication_error", code: "invalid_api_key");
                await next(http);
            }
            catch (Exception e) when (http.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException)
            {
                // The client went away; the generation was cancelled and its session freed.
                log.LogInformation("{Method} {Path}: client disconnected", http.Request.Method, http.Request.Path);
                if (!http.Response.HasStarted)
                    http.Response.StatusCode = 499;
            }
            catch (Exception e)
            {
                var error = ToApiError(e);
                if (error.Status >= 500 && error.Status != 503)
                    log.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
                else
                    log.LogInformation("{Method} {Path}: {Status} {Message}", http.Request.Method, http.Request.Path, error.Status, error.Message);
                await WriteErrorAsync(http, error);
            }
            finally
            {
                state.Metrics.RequestEnded(endpoint, http.Response.StatusCode);
            }
        });

        app.MapPost("/v1/chat/completions", (HttpContext http) => ChatCompletionsEndpoint.HandleAsync(http, state));
        app.MapPost("/v1/completions", (HttpContext http) => CompletionsEndpoint.HandleAsync(http, state));
        app.MapPost("/v1/embeddings", (HttpContext http) => EmbeddingsEndpoint.HandleAsync(http, state));
        app.MapGet("/v1/models", (HttpContext http) => Sse.WriteJsonAsync(http.Response,
            new JsonObject { ["object"] = "list", ["data"] = new JsonArray(ModelJson(state)) }));
        app.MapGet("/v1/models/{id}", (HttpContext http, string id) => id == runner.ModelId
            ? Sse.WriteJsonAsync(http.Response, ModelJson(state))
            : throw new ApiError(404, $"The model '{id}' does not exist; this server serves '{runner.ModelId}'.", param: "model", code: "model_not_found"));
        app.MapGet("/health", (HttpContext http) => Sse.WriteJsonAsync(http.Response, HealthJson(state)));
        app.MapGet("/metrics", (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return http.Response.WriteAsync(state.Metrics.Render(state));
        });
        app.MapGet("/", (HttpContext http) =>
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            return http.Response.Body.WriteAsync(ChatPage.Html).AsTask();
        });
        app.MapFallback((HttpContext http) =>
            throw new ApiError(404, $"There is no endpoint {http.Request.Method} {http.Request.Path}.", code: "not_found"));

        var p = runner.Model.HyperParameters;
        log.LogInformation("Serving {Model} ({Arch}, {Width} wide, {Blocks} blocks, vocabulary {Vocabulary}): {Sessions} session(s) of {Context} tokens, queue {Queue}",
            runner.ModelId, runner.Model.File.GetStringOrNull(Gguf.GgufKeys.GeneralArchitecture), p.EmbeddingLength, p.BlockCount,
            p.VocabularySize, runner.Sessions.Size, runner.ContextLength, runner.Sessions.QueueLimit);
        if (runner.UsesDefaultChatTemplate)
            log.LogWarning("{Model} has no chat template (tokenizer.chat_template); using EdgeLm's default ChatML template", runner.ModelId);
        log.LogInformation("Tool calls are parsed as {Format} ({Tools}); JSON response formats and required tool calls are enforced by {Engine}",
            runner.Formatter.ToolCallFormat, runner.Formatter.TemplateWritesTools ? "the template writes the tools" : "tools described in a system message",
            runner.Constraints.GetType().Name);
        return app;
    }

    /// <summary>Builds and starts the server; the returned handle knows the address it listens on.</summary>
    public static async Task<RunningServer> StartAsync(ModelRunner runner, EdgeLmServerOptions options, CancellationToken cancellationToken = default)
    {
        var app = Build(runner, options);
        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = new Uri(addresses.First());
        app.Logger.LogInformation("Listening on {Address} (chat page at /, OpenAI API under /v1)", address);
        return new RunningServer(app, address);
    }

    private static JsonObject ModelJson(ServerState state) => new()
    {
        ["id"] = state.Runner.ModelId,
        ["object"] = "model",
        ["created"] = Sse.UnixTime(state.Started),
        ["owned_by"] = "edgelm",
        ["context_length"] = state.Runner.ContextLength,
    };

    private static JsonObject HealthJson(ServerState state) => new()
    {
        ["status"] = "ok",
        ["model"] = state.Runner.ModelId,
        ["context_length"] = state.Runner.ContextLength,
        ["sessions"] = state.Runner.Sessions.Size,
        ["sessions_busy"] = state.Runner.Sessions.Busy,
        ["queue_length"] = state.Runner.Sessions.Waiting,
        ["chat_template"] = state.Runner.UsesDefaultChatTemplate ? "default (ChatML)" : "model",
        ["tool_call_format"] = state.Runner.Formatter.ToolCallFormat.ToString(),
    };

    private static string EndpointLabel(PathString path)
    {
        foreach (string known in KnownEndpoints)
        {
            if (path.Equals(known, StringComparison.Ordinal) || (known == "/v1/models" && path.StartsWithSegments(known)))
                return known;
        }
        return "other";
    }

    private static bool Authorized(HttpContext http, string key)
    {
        string header = http.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Maps a failure to the status and error body a client gets.</summary>
    internal static ApiError ToApiError(Exception e) => e switch
    {
        ApiError api => api,
        InvalidChatRequestException bad => ApiError.BadRequest(bad.Message, bad.Parameter),
        ContextOverflowException overflow => ApiError.BadRequest(
            $"This model's context holds {overflow.Capacity} tokens; the request needs {overflow.Requested} (the prompt and at least one generated token). Shorten the messages.",
            "messages", "context_length_exceeded"),
        SessionPoolFullException full => new ApiError(503, full.Message, "server_error", code: "server_busy"),
        BadHttpRequestException { StatusCode: 413 } => new ApiError(413, "The request body is larger than this server accepts.", code: "request_too_large"),
        BadHttpRequestException bad => new ApiError(bad.StatusCode, bad.Message),
        _ => new ApiError(500, $"Internal error: {e.GetType().Name}: {e.Message}", "server_error"),
    };

    private static async Task WriteErrorAsync(HttpContext http, ApiError error)
    {
        if (http.Response.HasStarted)
        {
            // Mid-stream: the status is sent already; tell the client in the stream, then end it.
            try
            {
                await Sse.WriteAsync(http.Response, error.ToJson(), CancellationToken.None);
            }
            catch (Exception)
            {
                // The connection is gone.
            }
            return;
        }
        http.Response.Clear();
        if (error.Status == 503)
            http.Response.Headers.RetryAfter = "1";
        if (error.Status == 401)
            http.Response.Headers.WWWAuthenticate = "Bearer";
        await Sse.WriteJsonAsync(http.Response, error.ToJson(), error.Status);
    }
}

/// <summary>A started server: where it listens, and how to stop it.</summary>
public sealed class RunningServer(WebApplication app, Uri baseAddress) : IAsyncDisposable
{
    /// <summary>The application.</summary>
    public WebApplication App { get; } = app;

    /// <summary>The address it listens on, e.g. http://127.0.0.1:8080/.</summary>
    public Uri BaseAddress { get; } = baseAddress;

    /// <summary>Completes when the server stops (Ctrl+C or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => App.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
