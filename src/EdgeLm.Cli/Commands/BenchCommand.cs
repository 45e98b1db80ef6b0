using System.CommandLine;
using System.Diagnostics;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm bench</c>: how fast this engine processes a prompt (pp) and generates (tg) on this machine, with the time
/// to first token and the process's peak resident memory. EdgeLm only; bench/EdgeLm.Benchmarks compares with llama.cpp.
/// </summary>
/// <remarks>
/// Protocol (the same as the benchmark program's): the token ids are BOS followed by seeded pseudo-random ids, so
/// no tokenizer runs and every run sees the same input. After one warm-up round (which lets .NET's tiered JIT
/// compile the hot paths), each repetition measures, on an emptied KV cache:
/// pp = p tokens evaluated in one call (batches of up to 512, logits of the last only);
/// tg = n tokens evaluated one at a time after a 1-token prompt, each the greedy argmax of the previous logits;
/// ttft = a short prompt evaluated and the first token chosen (model load excluded, reported separately).
/// Medians, minima and maxima are over the repetitions.
/// </remarks>
internal static class BenchCommand
{
    /// <summary>Largest forward batch: llama.cpp's default micro-batch, so long prompts are split alike.</summary>
    private const int MaxBatch = 512;

    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var promptCount = new Option<int>("--n-prompt", "-p") { Description = "prompt tokens for the prompt-processing test", DefaultValueFactory = _ => 128 };
        var genCount = new Option<int>("--n-gen", "-n") { Description = "tokens for the generation test", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "measured repetitions after one warm-up", DefaultValueFactory = _ => 5 };
        var ttftCount = new Option<int>("--ttft-prompt") { Description = "prompt tokens for the time-to-first-token test", DefaultValueFactory = _ => 16 };
        var cacheType = CommonOptions.CacheType();

        var command = new Command("bench", "Measure prompt processing and generation speed, time to first token and peak memory.")
        {
            model, threads, json, promptCount, genCount, reps, ttftCount, cacheType,
        };
        command.SetAction(parse =>
        {
            int p = Positive(parse.GetValue(promptCount), "--n-prompt");
            int n = Positive(parse.GetValue(genCount), "--n-gen");
            int r = Positive(parse.GetValue(reps), "--repetitions");
            int f = Positive(parse.GetValue(ttftCount), "--ttft-prompt");
            int? t = CommonOptions.CheckThreads(parse.GetValue(threads));
            var cache = CommonOptions.CheckCacheType(parse.GetValue(cacheType));
            string path = CommonOptions.ResolveModel(parse.GetValue(model));

            var load = Stopwatch.StartNew();
            using var lm = LanguageModel.Load(path);
            double loadSeconds = load.Elapsed.TotalSeconds;
            CommonOptions.CheckCacheFits(cache, lm);
            int context = ContextFor(p, n, f);
            var session = lm.CreateSession(new SessionOptions
            {
                Threads = t,
                ContextLength = context,
                BatchSize = Math.Min(Math.Max(p, f), MaxBatch),
                CacheType = cache,
            });
            int vocabulary = lm.HyperParameters.VocabularySize;
            int bos = lm.Tokenizer.BosId >= 0 ? lm.Tokenizer.BosId : 0; // no BOS: any id starts the sequence
            int[] prompt = BenchTokens(bos, vocabulary, p, seed: 1);
            int[] ttftPrompt = BenchTokens(bos, vocabulary, f, seed: 2);

            // Warm-up: every measured path runs once, untimed.
            MeasurePrompt(session, prompt);
            MeasureGeneration(session, bos, Math.Min(n, 8));
            MeasureFirstToken(session, ttftPrompt);

            var ppRuns = new double[r];
            var tgRuns = new double[r];
            var ttftRuns = new double[r];
            for (int i = 0; i < r; i++)
            {
                ppRuns[i] = p / MeasurePrompt(session, prompt);
                tgRuns[i] = n / MeasureGeneration(session, bos, n);
                ttftRuns[i] = MeasureFirstToken(session, ttftPrompt);
            }
            long peakRss = PeakResidentBytes();
            var pp = Summary.Of(ppRuns);
            var tg = Summary.Of(tgRuns);
            var ttft = Summary.Of(ttftRuns);

            if (parse.GetValue(json))
            {
                console.WriteJson(new
                {
                    model = path,
                    file_bytes = new FileInfo(path).Length,
                    threads = session.Threads,
                    prompt_tokens = p,
                    generated_tokens = n,
                    ttft_prompt_tokens = f,
                    repetitions = r,
                    context_length = context,
                    kv_cache_bytes = session.CacheByteSize,
                    cache_type = KvCacheTypes.Name(cache),
                    prompt_tokens_per_second = pp.Median,
                    tokens_per_second = tg.Median,
                    time_to_first_token_seconds = ttft.Median,
                    peak_rss_bytes = peakRss,
                    load_seconds = loadSeconds,
                    prompt = pp.ToJson(),
                    generation = tg.ToJson(),
                    time_to_first_token = ttft.ToJson(),
                });
            }
            else
            {
                var o = console.Output;
                o.WriteLine($"model   {path} ({new FileInfo(path).Length / 1048576.0:F1} MiB), {session.Threads} threads, loaded in {loadSeconds:F2} s");
                o.WriteLine($"median over {r} repetitions after a warm-up (min - max):");
                o.WriteLine($"  pp{p,-5} {pp.Median,10:F1} tok/s   ({pp.Min:F1} - {pp.Max:F1})");
                o.WriteLine($"  tg{n,-5} {tg.Median,10:F1} tok/s   ({tg.Min:F1} - {tg.Max:F1})");
                o.WriteLine($"  ttft{f,-3} {ttft.Median * 1000,10:F1} ms      ({ttft.Min * 1000:F1} - {ttft.Max * 1000:F1}), {f}-token prompt");
                o.WriteLine($"  peak RSS {peakRss / 1048576.0,8:F1} MiB (KV cache {session.CacheByteSize / 1048576.0:F1} MiB {KvCacheTypes.Name(cache)} for {context} positions)");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }

    /// <summary>Median, minimum and maximum of some measurements, plus the measurements themselves.</summary>
    internal sealed record Summary(double Median, double Min, double Max, double[] Runs)
    {
        public static Summary Of(double[] runs)
        {
            var sorted = runs.Order().ToArray();
            int m = sorted.Length / 2;
            double median = sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
            return new Summary(median, sorted[0], sorted[^1], runs);
        }

        /// <summary>The JSON shape: <c>{"median","min","max","runs":[..]}</c>.</summary>
        public object ToJson() => new { median = Median, min = Min, max = Max, runs = Runs };
    }

    /// <summary>Positions every test needs, rounded up to a multiple of 256 as llama.cpp pads its context.</summary>
    internal static int ContextFor(int promptTokens, int generatedTokens, int ttftPromptTokens)
    {
        int needed = Math.Max(Math.Max(promptTokens, ttftPromptTokens), 1 + generatedTokens);
        return (needed + 255) / 256 * 256;
    }

    /// <summary>
    /// BOS then <paramref name="count"/> - 1 pseudo-random ids in [0, <paramref name="vocabulary"/>), from a SplitMix64
    /// sequence, so the same arguments give the same ids on every machine.
    /// </summary>
    internal static int[] BenchTokens(int bos, int vocabulary, int count, ulong seed)
    {
        var ids = new int[count];
        ids[0] = bos;
        ulong state = seed;
        for (int i = 1; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            ids[i] = (int)(z % (ulong)vocabulary);
        }
        return ids;
    }

    /// <summary>Seconds to evaluate <paramref name="prompt"/> on an emptied cache.</summary>
    private static double MeasurePrompt(InferenceSession session, int[] prompt)
    {
        session.Reset();
        long start = Stopwatch.GetTimestamp();
        session.Evaluate(prompt);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Seconds to generate <paramref name="count"/> tokens greedily, one forward pass each, after BOS alone.</summary>
    private static double MeasureGeneration(InferenceSession session, int bos, int count)
    {
        session.Reset();
        int next = ArgMax(session.Evaluate([bos]));
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
            next = ArgMax(session.Evaluate([next]));
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Seconds from an emptied cache to the first token chosen after <paramref name="prompt"/>.</summary>
    private static double MeasureFirstToken(InferenceSession session, int[] prompt)
    {
        session.Reset();
        long start = Stopwatch.GetTimestamp();
        _ = ArgMax(session.Evaluate(prompt));
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }

    /// <summary>
    /// The process's peak resident set: VmHWM from /proc/self/status on Linux, else the peak working set. It covers
    /// the whole process, so run the benchmark alone in its process for a figure about the model.
    /// </summary>
    internal static long PeakResidentBytes()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            foreach (string line in File.ReadLines(Status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    // "VmHWM:    123456 kB"
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && long.TryParse(parts[1], out long kib))
                        return kib * 1024;
                }
            }
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new UsageException($"{option} must be 1 or more, got {value}.");
}
