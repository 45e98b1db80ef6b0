using System.CommandLine;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm run</c>: generate text after a prompt, streaming it as it comes.</summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var modelOptions = new ModelSessionOptions();
        var json = CommonOptions.Json();
        var count = new Option<int>("--n-predict", "-n") { Description = "tokens to generate", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temp") { Description = "temperature; 0 is greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0: all)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "nucleus threshold (1: off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "minimum probability relative to the best token (0: off)", DefaultValueFactory = _ => 0.05f };
        var repeatPenalty = new Option<float>("--repeat-penalty") { Description = "repetition penalty (1: off)", DefaultValueFactory = _ => 1.0f };
        var seed = new Option<ulong?>("--seed") { Description = "random seed, for reproducible runs" };
        var stop = new Option<string[]>("--stop") { Description = "stop when this text appears (repeatable)", AllowMultipleArgumentsPerToken = false };

        var command = new Command("run", "Generate text after a prompt.")
        {
            json, count, temperature, topK, topP, minP, repeatPenalty, seed, stop,
        };
        modelOptions.AddTo(command);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(count);
            if (n < 0)
                throw new UsageException($"--n-predict must be 0 or more, got {n}.");
            var sampling = new SamplingOptions
            {
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                MinP = parse.GetValue(minP),
                RepeatPenalty = parse.GetValue(repeatPenalty),
                Seed = parse.GetValue(seed),
            };
            try
            {
                sampling.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UsageException(e.Message.Split(Environment.NewLine)[0]);
            }
            var options = new GenerationOptions { MaxTokens = n, Sampling = sampling, StopSequences = parse.GetValue(stop) ?? [] };

            using var opened = modelOptions.Open(parse);
            var (lm, session, promptTokens) = (opened.Model, opened.Session, opened.PromptTokens);
            string text = parse.GetValue(modelOptions.Prompt) ?? "";

            bool asJson = parse.GetValue(json);
            if (!asJson)
                console.Output.Write(text);
            var result = Generator.Generate(session, promptTokens, options, asJson ? null : t =>
            {
                console.Output.Write(t.Text);
                console.Output.Flush();
            });
            if (asJson)
            {
                console.WriteJson(new
                {
                    prompt_tokens = result.PromptTokens,
                    tokens = result.Tokens,
                    text = result.Text,
                    prompt_tokens_per_second = result.PromptTokensPerSecond,
                    tokens_per_second = result.TokensPerSecond,
                    stop_reason = result.StopReason.ToString(),
                });
            }
            else
            {
                console.Output.WriteLine();
                console.Error.WriteLine($"prompt: {result.PromptTokens.Length} tokens, {result.PromptTokensPerSecond:F1} tok/s; generated: {result.Tokens.Length} tokens, {result.TokensPerSecond:F1} tok/s ({session.Threads} threads); stop: {result.StopReason}");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }
}
