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

/// <summary>EdgeLm's median over a peer's median, and which peer (llama.cpp variant) that was.</summary>
internal sealed record PeerRatio(double Value, string Peer);

/// <summary>
/// EdgeLm against the stronger llama.cpp variant of each measure: the one with the higher median speed, or the lower
/// median time or memory. Above 1 is better for EdgeLm in speeds, below 1 in time to first token and RSS.
/// </summary>
internal sealed record Ratios(PeerRatio? PromptTokensPerSecond, PeerRatio? TokensPerSecond, PeerRatio? TimeToFirstTokenSeconds, PeerRatio? PeakRssBytes)
{
    public static Ratios Of(EngineResult? edgelm, IReadOnlyDictionary<string, EngineResult> peers)
    {
        PeerRatio? Best(Func<EngineResult, Summary?> measure, bool higherIsBetter)
        {
            if (edgelm is null || measure(edgelm) is not { } ours)
                return null;
            var candidates = peers.Where(p => measure(p.Value) is { Median: > 0 }).ToList();
            if (candidates.Count == 0)
                return null;
            var best = higherIsBetter
                ? candidates.MaxBy(p => measure(p.Value)!.Median)
                : candidates.MinBy(p => measure(p.Value)!.Median);
            return new PeerRatio(ours.Median / measure(best.Value)!.Median, best.Key);
        }
        return new Ratios(
            Best(e => e.PromptTokensPerSecond, higherIsBetter: true),
            Best(e => e.TokensPerSecond, higherIsBetter: true),
            Best(e => e.TimeToFirstTokenSeconds, higherIsBetter: false),
            Best(e => e.PeakRssBytes, higherIsBetter: false));
    }
}

/// <summary>Every engine on one model file (keyed by engine name), and EdgeLm against the stronger llama.cpp.</summary>
internal sealed record ModelResult(string Size, string Shape, string Type, string File, long FileBytes,
                                   IReadOnlyDictionary<string, EngineResult> Engines, Ratios Ratio);

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
