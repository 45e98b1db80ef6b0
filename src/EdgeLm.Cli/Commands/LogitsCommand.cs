using System.CommandLine;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm logits</c>: the logits after evaluating a prompt, at the last or at every position.</summary>
internal static class LogitsCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOptions = new ModelSessionOptions();
        var json = CommonOptions.Json();
        var all = new Option<bool>("--all") { Description = "logits at every position, not only the last" };
        var top = new Option<int>("--top") { Description = "in text output, how many most likely tokens to list per position", DefaultValueFactory = _ => 10 };

        var command = new Command("logits", "Print the logits after evaluating a prompt.") { json, all, top };
        modelOptions.AddTo(command);
        command.SetAction(parse =>
        {
            using var opened = modelOptions.Open(parse);
            var (lm, session, tokens) = (opened.Model, opened.Session, opened.PromptTokens);
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
