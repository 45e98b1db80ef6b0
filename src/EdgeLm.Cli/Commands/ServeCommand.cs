using System.CommandLine;
using EdgeLm.Runtime;
using EdgeLm.Runtime.AI;
using EdgeLm.Server;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm serve</c>: the OpenAI-compatible HTTP server and chat page, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var context = CommonOptions.Context();
        var host = new Option<string>("--host") { Description = "address to listen on (loopback unless you mean otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port)", DefaultValueFactory = _ => 8080 };
        var sessions = new Option<int>("--sessions") { Description = "requests generating at once, each with its own KV cache", DefaultValueFactory = _ => 2 };
        var queue = new Option<int>("--queue") { Description = "requests allowed to wait for a session; more get HTTP 503", DefaultValueFactory = _ => 64 };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' on /v1 requests" };
        var maxBody = new Option<long>("--max-body") { Description = "largest request body in bytes", DefaultValueFactory = _ => 4 << 20 };
        var cacheType = CommonOptions.CacheType();

        var command = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API, with a chat page at /.")
        {
            model, threads, context, host, port, sessions, queue, apiKey, maxBody, cacheType,
        };
        command.SetAction(parse =>
        {
            int sessionCount = parse.GetValue(sessions);
            if (sessionCount is < 1 or > 256)
                throw new UsageException($"--sessions must be between 1 and 256, got {sessionCount}.");
            int queueLimit = parse.GetValue(queue);
            if (queueLimit is < 0 or > 100_000)
                throw new UsageException($"--queue must be between 0 and 100000, got {queueLimit}.");
            int portNumber = parse.GetValue(port);
            if (portNumber is < 0 or > 65535)
                throw new UsageException($"--port must be between 0 and 65535, got {portNumber}.");
            long bodyLimit = parse.GetValue(maxBody);
            if (bodyLimit < 1024)
                throw new UsageException($"--max-body must be at least 1024 bytes, got {bodyLimit}.");
            string hostName = parse.GetValue(host) ?? "127.0.0.1";
            if (hostName != "localhost" && !System.Net.IPAddress.TryParse(hostName, out _))
                throw new UsageException($"--host must be an IP address or 'localhost', got '{hostName}'.");
            // Without -t, the cores are shared out between the sessions.
            int? threadCount = CommonOptions.CheckThreads(parse.GetValue(threads)) ?? Math.Max(1, Environment.ProcessorCount / sessionCount);
            var cache = CommonOptions.CheckCacheType(parse.GetValue(cacheType));

            using var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            CommonOptions.CheckCacheFits(cache, lm);
            using var runner = new ModelRunner(lm, new ModelRunnerOptions
            {
                Sessions = sessionCount,
                QueueLimit = queueLimit,
                ContextLength = CommonOptions.CheckContext(parse.GetValue(context)),
                Threads = threadCount,
                CacheType = cache,
            });
            var options = new EdgeLmServerOptions
            {
                Host = hostName,
                Port = portNumber,
                ApiKey = parse.GetValue(apiKey),
                MaxRequestBodyBytes = bodyLimit,
            };
            Serve(runner, options, console).GetAwaiter().GetResult();
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static async Task Serve(ModelRunner runner, EdgeLmServerOptions options, CliConsole console)
    {
        await using var server = await EdgeLmServer.StartAsync(runner, options);
        console.Output.WriteLine($"edgelm: serving {runner.ModelId} at {server.BaseAddress} (Ctrl+C to stop)");
        console.Output.Flush();
        await server.WaitForShutdownAsync();
    }
}
