using System.CommandLine;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm logits</c>: the logits after evaluating a prompt, at the last or at every position.</summary>
internal static class LogitsCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var context = CommonOptions.Context();
        var prompt = new Option<string>("--prompt", "-p") { Description = "prompt text; empty means BOS alone", DefaultValueFactory = _ => "" };
        var all = new Option<bool>("--all") { Description = "logits at every position, not only the last" };
        var top = new Option<int>("--top") { Description = "in text output, how many most likely tokens to list per position", DefaultValueFactory = _ => 10 };

        var command = new Command("logits", "Print the logits after evaluating a prompt.") { model, threads, json, context, prompt, all, top };
        command.SetAction(parse =>
        {
            using var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            int[] tokens = lm.Tokenizer.Encode(parse.GetValue(prompt) ?? "", addSpecial: true, parseSpecial: true);
            if (tokens.Length == 0)
                throw new UsageException("the prompt is empty and the model adds no BOS token.");
            var session = lm.CreateSession(new SessionOptions
            {
                Threads = CommonOptions.CheckThreads(parse.GetValue(threads)),
                ContextLength = CommonOptions.CheckContext(parse.GetValue(context)),
            });
            int V = lm.HyperParameters.VocabularySize;
            float[][] rows;
            if (parse.GetValue(all))
            {
                var flat = new float[tokens.Length * V];
                session.EvaluateAll(tokens, flat);
                rows = [.. Enumerable.Range(0, tokens.Length).Select(i => flat.AsSpan(i * V, V).ToArray())];
            }
            else
            {
                rows = [session.Evaluate(tokens).ToArray()];
            }

            if (parse.GetValue(json))
            {
                console.WriteJson(new { tokens, logits = rows });
                return EdgeLmCli.Success;
            }
            int k = Math.Clamp(parse.GetValue(top), 1, V);
            int firstPosition = tokens.Length - rows.Length;
            for (int r = 0; r < rows.Length; r++)
            {
                var best = Enumerable.Range(0, V).OrderByDescending(i => rows[r][i]).ThenBy(i => i).Take(k);
                console.Output.WriteLine($"position {firstPosition + r} (after token {tokens[firstPosition + r]}):");
                foreach (int id in best)
                    console.Output.WriteLine($"  {id,6} {rows[r][id],10:F4}  {Printable(lm.Tokenizer.TokenText(id))}");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static string Printable(string piece) => System.Text.Json.JsonSerializer.Serialize(piece);
}
