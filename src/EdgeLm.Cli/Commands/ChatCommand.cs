using System.CommandLine;
using EdgeLm.Runtime;
using EdgeLm.Runtime.AI;
using Microsoft.Extensions.AI;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm chat</c>: an interactive conversation through the model's own chat template (or the documented default
/// when the model has none), streamed as it is generated. One line of input is one user turn; <c>/reset</c> forgets the
/// conversation, <c>/exit</c> or the end of input leaves.
/// </summary>
internal static class ChatCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var context = CommonOptions.Context();
        var system = new Option<string?>("--system") { Description = "system prompt" };
        var maxTokens = new Option<int>("--n-predict", "-n") { Description = "most tokens per answer", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temp") { Description = "temperature; 0 is greedy", DefaultValueFactory = _ => 0.8f };
        var seed = new Option<long?>("--seed") { Description = "random seed, for reproducible answers" };
        var cacheType = CommonOptions.CacheType();

        var command = new Command("chat", "Chat with the model interactively, using its chat template.")
        {
            model, threads, context, system, maxTokens, temperature, seed, cacheType,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int n = parse.GetValue(maxTokens);
            if (n <= 0)
                throw new UsageException($"--n-predict must be positive, got {n}.");
            float temp = parse.GetValue(temperature);
            if (float.IsNaN(temp) || float.IsInfinity(temp))
                throw new UsageException($"--temp must be a finite number, got {temp}.");
            var cache = CommonOptions.CheckCacheType(parse.GetValue(cacheType));
            using var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            CommonOptions.CheckCacheFits(cache, lm);
            using var client = new EdgeLmChatClient(lm, new ModelRunnerOptions
            {
                CacheType = cache,
                Threads = CommonOptions.CheckThreads(parse.GetValue(threads)),
                ContextLength = CommonOptions.CheckContext(parse.GetValue(context)),
            });
            var options = new ChatOptions { MaxOutputTokens = n, Temperature = temp, Seed = parse.GetValue(seed) };
            var history = new List<ChatMessage>();
            if (parse.GetValue(system) is { } prompt)
                history.Add(new ChatMessage(ChatRole.System, prompt));
            int systemMessages = history.Count;

            console.Error.WriteLine($"edgelm chat: {Path.GetFileName(lm.Path)}; /reset forgets the conversation, /exit leaves.");
            while (true)
            {
                console.Output.Write("> ");
                console.Output.Flush();
                string? line = await console.Input.ReadLineAsync(cancellationToken);
                if (line is null or "/exit")
                    break;
                if (line == "/reset")
                {
                    history.RemoveRange(systemMessages, history.Count - systemMessages);
                    continue;
                }
                if (line.Length == 0)
                    continue;
                history.Add(new ChatMessage(ChatRole.User, line));
                var answer = new System.Text.StringBuilder();
                try
                {
                    await foreach (var update in client.GetStreamingResponseAsync(history, options, cancellationToken))
                    {
                        console.Output.Write(update.Text);
                        console.Output.Flush();
                        answer.Append(update.Text);
                    }
                }
                catch (ContextOverflowException e)
                {
                    // The conversation outgrew the context: say so and let the user reset, rather than cut history silently.
                    history.RemoveAt(history.Count - 1);
                    console.Error.WriteLine($"edgelm: {e.Message} Type /reset to start over.");
                    continue;
                }
                console.Output.WriteLine();
                history.Add(new ChatMessage(ChatRole.Assistant, answer.ToString()));
            }
            return EdgeLmCli.Success;
        });
        return command;
    }
}
