using System.ClientModel;
using EdgeLm.Runtime.AI;
using EdgeLm.Testing;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace EdgeLm.Server.Tests;

/// <summary>
/// One live server on 127.0.0.1 (a free port) over the bundled model, shared by the tests of the "server"
/// collection: 4 sessions, a queue of 64, a context of 1024 tokens, a 64 KiB body limit.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const int ContextLength = 1024;
    public const int BodyLimit = 64 * 1024;

    public ModelRunner Runner { get; private set; } = null!;

    public RunningServer Server { get; private set; } = null!;

    public Uri BaseAddress => Server.BaseAddress;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>The official OpenAI client, pointed at the server.</summary>
    public OpenAIClient OpenAI => CreateOpenAIClient(BaseAddress);

    public static OpenAIClient CreateOpenAIClient(Uri baseAddress, string key = "no-key") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(baseAddress, "v1"), NetworkTimeout = TimeSpan.FromMinutes(2) });

    /// <summary>Starts a server over stories260K with the given runner and server settings.</summary>
    public static async Task<(ModelRunner Runner, RunningServer Server)> StartAsync(ModelRunnerOptions runnerOptions, EdgeLmServerOptions? serverOptions = null)
    {
        var runner = ModelRunner.Load(RepoPaths.Stories260K, runnerOptions);
        var server = await EdgeLmServer.StartAsync(runner, (serverOptions ?? new EdgeLmServerOptions()) with { Host = "127.0.0.1", Port = 0, LogLevel = LogLevel.Warning });
        return (runner, server);
    }

    public async Task InitializeAsync()
    {
        (Runner, Server) = await StartAsync(
            new ModelRunnerOptions { Sessions = 4, QueueLimit = 64, Threads = 1, ContextLength = ContextLength },
            new EdgeLmServerOptions { MaxRequestBodyBytes = BodyLimit });
        Http.BaseAddress = BaseAddress;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Runner.Dispose();
    }
}

[CollectionDefinition("server")]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;
