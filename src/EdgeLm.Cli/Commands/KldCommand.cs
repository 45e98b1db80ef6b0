using System.CommandLine;
using EdgeLm.Compression.Evaluation;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm kld -m BASE --candidate MODEL -f TEXT</c>: what quantizing (or pruning) cost, as KL divergence of the
/// candidate's next-token distributions from the base model's (llama-perplexity --kl-divergence statistics).
/// </summary>
internal static class KldCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        model.Description = "base model the candidate is compared with (default: the bundled model)";
        var candidate = new Option<string>("--candidate") { Description = "the model under test (e.g. a quantized copy of the base)", Required = true };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var file = new Option<string>("--file", "-f") { Description = "text to evaluate on", Required = true };
        var context = new Option<int>("--ctx-size", "-c") { Description = "chunk length in tokens", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "evaluate at most this many chunks" };
        var cacheType = CommonOptions.CacheType();
        cacheType.Description = "KV cache type of the candidate's session, f16 (default) or q8_0; the base always uses f16, so "
            + "--candidate may be the base model itself to measure what the cache type costs";

        var command = new Command("kld", "KL divergence of a candidate model's next-token distributions from a base model's over a text.")
        {
            model, candidate, threads, json, file, context, chunks, cacheType,
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
            string candidatePath = parse.GetValue(candidate)!;
            if (!File.Exists(candidatePath))
                throw new UsageException($"--candidate: model file '{candidatePath}' does not exist.");
            string text = CommonOptions.ReadTextFile(parse.GetValue(file)!, "--file");
            int? t = CommonOptions.CheckThreads(parse.GetValue(threads));

            using var baseModel = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            using var other = LanguageModel.Load(candidatePath);
            CommonOptions.CheckCacheFits(cache, other);
            int V = baseModel.HyperParameters.VocabularySize;
            if (other.HyperParameters.VocabularySize != V)
                throw new UsageException($"the models' vocabularies differ ({V} and {other.HyperParameters.VocabularySize} tokens).");
            int[] tokens = baseModel.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
            if (tokens.Length < 2 * n)
                throw new UsageException($"the file tokenizes to {tokens.Length} tokens; --ctx-size {n} needs at least {2 * n}.");
            var a = baseModel.CreateSession(new SessionOptions { Threads = t, ContextLength = n });
            var b = other.CreateSession(new SessionOptions { Threads = t, ContextLength = n, CacheType = cache });
            float[] Evaluate(InferenceSession s, int[] chunk)
            {
                var logits = new float[n * V];
                s.Reset();
                s.EvaluateAll(chunk, logits);
                return logits;
            }
            var r = KlDivergenceStatistics.Compute(tokens, n, maxChunks, baseModel.Tokenizer.AddBos ? baseModel.Tokenizer.BosId : null,
                chunk => Evaluate(a, chunk), chunk => Evaluate(b, chunk));
            if (parse.GetValue(json))
            {
                console.WriteJson(new
                {
                    mean = r.Mean, standard_error = r.StandardError, median = r.Median, p90 = r.P90, p99 = r.P99, p999 = r.P999,
                    max = r.Maximum, top1_agreement = r.TopTokenAgreement, base_perplexity = r.BasePerplexity,
                    perplexity = r.Perplexity, tokens = r.ScoredTokens, chunks = r.Chunks,
                });
            }
            else
            {
                var o = console.Output;
                o.WriteLine($"KL divergence over {r.ScoredTokens} positions ({r.Chunks} chunks of {n} tokens)");
                o.WriteLine($"  mean    {r.Mean:F6} ± {r.StandardError:F6}");
                o.WriteLine($"  median  {r.Median:F6}   90% {r.P90:F6}   99% {r.P99:F6}   99.9% {r.P999:F6}   max {r.Maximum:F6}");
                o.WriteLine($"  same top token {r.TopTokenAgreement:P2}");
                o.WriteLine($"  perplexity {r.Perplexity:F4} (base {r.BasePerplexity:F4})");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }
}
