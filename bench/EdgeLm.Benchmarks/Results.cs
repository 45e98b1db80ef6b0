using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLm.Benchmarks;

/// <summary>Median, minimum and maximum of repeated measurements, with the measurements in the order taken.</summary>
internal sealed record Summary(double Median, double Min, double Max, double[] Runs)
{
    public static Summary Of(IEnumerable<double> values)
    {
        double[] runs = values.ToArray();
        if (runs.Length == 0)
            throw new ArgumentException("No measurements to summarize.", nameof(values));
        var sorted = runs.Order().ToArray();
        int m = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
        return new Summary(median, sorted[0], sorted[^1], runs);
    }
}

/// <summary>
/// One engine on one model file over every repetition; <see cref="Error"/> set when a round failed. OtherCoresDuring
/// is the load other processes put on the machine while the rounds were measured.
/// </summary>
internal sealed record EngineResult(
    Summary? PromptTokensPerSecond,
    Summary? TokensPerSecond,
    Summary? TimeToFirstTokenSeconds,
    Summary? PeakRssBytes,
    Summary? LoadSeconds,
    Summary? OtherCoresDuring,
    long? RssBeforeLoadBytes,
    long? KvCacheBytes,
    string? Settings,
    string? Error)
{
    public static EngineResult From(IReadOnlyList<RoundResult> rounds, string? error)
    {
        if (rounds.Count == 0)
            return new EngineResult(null, null, null, null, null, null, null, null, null, error ?? "no round ran");
        return new EngineResult(
            Summary.Of(rounds.Select(r => r.PromptTokensPerSecond)),
            Summary.Of(rounds.Select(r => r.TokensPerSecond)),
            Summary.Of(rounds.Select(r => r.TimeToFirstTokenSeconds)),
            Summary.Of(rounds.Select(r => (double)r.PeakRssBytes)),
            Summary.Of(rounds.Select(r => r.LoadSeconds)),
            rounds.All(r => r.OtherCoresDuring is not null) ? Summary.Of(rounds.Select(r => r.OtherCoresDuring!.Value)) : null,
            rounds.Min(r => r.RssBeforeLoadBytes),
            rounds[0].KvCacheBytes,
            rounds[0].Settings,
            error);
    }
}

/// <summary>EdgeLm's median over llama.cpp's median, per measure (higher is better for speeds, lower for time and memory).</summary>
internal sealed record Ratios(double? PromptTokensPerSecond, double? TokensPerSecond, double? TimeToFirstTokenSeconds, double? PeakRssBytes)
{
    public static Ratios Of(EngineResult? edgelm, EngineResult? llamacpp)
    {
        static double? R(Summary? a, Summary? b) => a is null || b is null || b.Median == 0 ? null : a.Median / b.Median;
        return new Ratios(
            R(edgelm?.PromptTokensPerSecond, llamacpp?.PromptTokensPerSecond),
            R(edgelm?.TokensPerSecond, llamacpp?.TokensPerSecond),
            R(edgelm?.TimeToFirstTokenSeconds, llamacpp?.TimeToFirstTokenSeconds),
            R(edgelm?.PeakRssBytes, llamacpp?.PeakRssBytes));
    }
}

/// <summary>Both engines on one model file.</summary>
internal sealed record ModelResult(string Size, string Shape, string Type, string File, long FileBytes, EngineResult? Edgelm, EngineResult? Llamacpp, Ratios Ratio);

/// <summary>Everything one benchmark run measured, as written to --json.</summary>
internal sealed record BenchReport(
    string Date,
    string Cpu,
    string Machine,
    string LoadAverageBefore,
    string LoadAverageAfter,
    int Threads,
    int Repetitions,
    int PromptTokens,
    int GeneratedTokens,
    int TtftPromptTokens,
    int ContextLength,
    string Command,
    string Protocol,
    IReadOnlyList<ModelResult> Results);

internal static class Json
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };
}
