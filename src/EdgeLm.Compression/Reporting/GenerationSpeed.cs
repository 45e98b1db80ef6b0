using System.Diagnostics;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Reporting;

/// <summary>How fast one model ran, as medians over the measured repetitions.</summary>
/// <param name="TokensPerSecond">Generation: tokens decoded one forward pass each, per second.</param>
/// <param name="PromptTokensPerSecond">Prompt processing: prompt tokens evaluated in batches, per second; null when not measured.</param>
/// <param name="Threads">Worker threads the session used.</param>
/// <param name="GeneratedTokens">Tokens decoded per generation run.</param>
/// <param name="PromptTokens">Tokens per prompt run (0 when not measured).</param>
/// <param name="Repetitions">Measured runs per figure, after one untimed warm-up.</param>
public sealed record SpeedMeasurement(double TokensPerSecond, double? PromptTokensPerSecond, int Threads, int GeneratedTokens,
    int PromptTokens, int Repetitions);

/// <summary>
/// Generation and prompt speed of a model, measured the way <c>edgelm bench</c> does: an untimed warm-up of half a second (so the
/// JIT has optimized the hot paths), then repetitions on an emptied KV cache, and the median of them.
/// Generation: BOS is evaluated untimed, then <c>generatedTokens</c> tokens are decoded greedily (each the argmax of
/// the previous logits), one forward pass each. Prompt: the given tokens in one call (batches of up to 512).
/// </summary>
public static class GenerationSpeed
{
    private const int MaxBatch = 512;

    /// <summary>How long the untimed warm-up runs.</summary>
    private const double WarmUpSeconds = 0.5;

    /// <summary>Measures <paramref name="model"/>.</summary>
    /// <param name="model">The model; a session of its own is opened.</param>
    /// <param name="startToken">The token generation starts after (BOS when the model has one).</param>
    /// <param name="prompt">Tokens for the prompt test; empty to skip it.</param>
    /// <param name="generatedTokens">Tokens decoded per generation run, at least 1.</param>
    /// <param name="repetitions">Measured runs, at least 1.</param>
    /// <param name="threads">Worker threads; null for one per core.</param>
    public static SpeedMeasurement Measure(LanguageModel model, int startToken, ReadOnlySpan<int> prompt, int generatedTokens,
        int repetitions, int? threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(generatedTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        int context = ContextFor(prompt.Length, generatedTokens);
        var session = model.CreateSession(new SessionOptions
        {
            Threads = threads,
            ContextLength = context,
            BatchSize = Math.Clamp(prompt.Length, 1, MaxBatch),
        });
        int[] promptTokens = prompt.ToArray();

        // Warm-up, untimed: each test repeated for a while, so that .NET's tiered JIT has promoted this model's kernels
        // (a few dozen calls, then a background compile) before anything is timed; fewer runs leave the first
        // measurements of each new quant type on unoptimized code.
        for (long t0 = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(t0).TotalSeconds < WarmUpSeconds;)
        {
            Generate(session, startToken, generatedTokens);
            if (promptTokens.Length > 0)
                Prompt(session, promptTokens);
        }

        var generation = new double[repetitions];
        var prompting = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            generation[r] = generatedTokens / Generate(session, startToken, generatedTokens);
            if (promptTokens.Length > 0)
                prompting[r] = promptTokens.Length / Prompt(session, promptTokens);
        }
        return new SpeedMeasurement(Median(generation), promptTokens.Length > 0 ? Median(prompting) : null, session.Threads,
            generatedTokens, promptTokens.Length, repetitions);
    }

    /// <summary>Positions the speed session needs, rounded up to a multiple of 256.</summary>
    internal static int ContextFor(int promptTokens, int generatedTokens) =>
        (Math.Max(promptTokens, 1 + generatedTokens) + 255) / 256 * 256;

    /// <summary>The middle value, or the mean of the two middle ones.</summary>
    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    /// <summary>Seconds to decode <paramref name="count"/> tokens greedily after <paramref name="start"/>.</summary>
    private static double Generate(InferenceSession session, int start, int count)
    {
        session.Reset();
        int next = ArgMax(session.Evaluate([start]));
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
            next = ArgMax(session.Evaluate([next]));
        return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
    }

    /// <summary>Seconds to evaluate <paramref name="prompt"/> on an emptied cache.</summary>
    private static double Prompt(InferenceSession session, int[] prompt)
    {
        session.Reset();
        long t0 = Stopwatch.GetTimestamp();
        session.Evaluate(prompt);
        return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
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
}
