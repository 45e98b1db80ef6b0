using System.CommandLine;
using EdgeLm.Compression.Evaluation;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm perplexity</c>: llama.cpp-style perplexity of a text file.</summary>
internal static class PerplexityCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var file = new Option<string>("--file", "-f") { Description = "text file to score", Required = true };
        var context = new Option<int>("--ctx-size", "-c") { Description = "chunk length in tokens", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "score at most this many chunks" };
        var cacheType = CommonOptions.CacheType();

        var command = new Command("perplexity", "Perplexity over non-overlapping chunks, scoring the second half of each (as llama-perplexity does).")
        {
            model, threads, json, file, context, chunks, cacheType,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(context);
            if (n < 4 || n > 1 << 20)
                throw new UsageException($"--ctx-size must be between 4 and {1 << 20}, got {n}.");
            int? maxChunks = parse.GetValue(chunks);
            if (maxChunks is <= 0)
                throw new UsageException($"--chunks must be positive, got {maxChunks}.");
            var cache = CommonOptions.CheckCacheType(parse.GetValue(cacheType));
            string text = CommonOptions.ReadTextFile(parse.GetValue(file)!, "--file");

            using var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            CommonOptions.CheckCacheFits(cache, lm);
            var session = lm.CreateSession(new SessionOptions { Threads = CommonOptions.CheckThreads(parse.GetValue(threads)), ContextLength = n, CacheType = cache });
            int[] tokens = lm.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
            if (tokens.Length < 2 * n)
                throw new UsageException($"the file tokenizes to {tokens.Length} tokens; perplexity with --ctx-size {n} needs at least {2 * n}.");
            int V = lm.HyperParameters.VocabularySize;
            var logits = new float[n * V];
            var result = Perplexity.Compute(tokens, n, maxChunks, lm.Tokenizer.AddBos ? lm.Tokenizer.BosId : null, chunk =>
            {
                session.Reset();
                session.EvaluateAll(chunk, logits);
                return logits;
            });
            if (parse.GetValue(json))
                console.WriteJson(new { perplexity = result.Value, chunks = result.Chunks, tokens = tokens.Length, scored_tokens = result.ScoredTokens });
            else
                console.Output.WriteLine($"perplexity: {result.Value:F4} over {result.Chunks} chunks of {n} tokens ({result.ScoredTokens} tokens scored, {tokens.Length} in the text)");
            return EdgeLmCli.Success;
        });
        return command;
    }
}
