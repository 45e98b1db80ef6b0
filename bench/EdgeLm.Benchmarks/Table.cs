using System.Text;

namespace EdgeLm.Benchmarks;

/// <summary>
/// The report as Markdown: per model file, one row per engine with "median (min-max)" cells, then a row of ratios
/// EdgeLm / the stronger llama.cpp variant of each column.
/// </summary>
internal static class Table
{
    private const double MiB = 1024 * 1024;

    public static string Markdown(BenchReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{r.Date}; {r.Cpu} ({r.Machine}); {r.Threads} threads; {r.Repetitions} repetitions per engine, each in a fresh process after a warm-up.");
        sb.AppendLine($"Load average (1, 5, 15 min) before: {r.LoadAverageBefore}; after: {r.LoadAverageAfter}.");
        sb.AppendLine($"Command: `{r.Command}`");
        sb.AppendLine();
        sb.AppendLine("Cells: median (min-max) over the repetitions. Ratio row: EdgeLm's median / the better llama.cpp median of the " +
                      "column (above 1 is better for EdgeLm in pp and tg, below 1 in time to first token and RSS). " +
                      "\"others\": cores used by other processes during the measured part of the rounds (median).");
        sb.AppendLine();
        sb.AppendLine($"| model | engine | pp{r.PromptTokens} tok/s | tg{r.GeneratedTokens} tok/s | TTFT ({r.TtftPromptTokens} tok) ms | peak RSS MiB | others |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var m in r.Results)
        {
            string model = $"{m.Size} {m.Type} ({m.FileBytes / MiB:F0} MiB)";
            foreach (var (name, e) in m.Engines)
            {
                sb.Append($"| {model} | {EngineNames.Display(name)} ");
                if (e.Error is not null && e.PromptTokensPerSecond is null)
                {
                    sb.AppendLine("| failed | | | | |");
                    continue;
                }
                sb.Append($"| {Cell(e.PromptTokensPerSecond, 1, "F1")} | {Cell(e.TokensPerSecond, 1, "F1")} ");
                sb.Append($"| {Cell(e.TimeToFirstTokenSeconds, 1000, "F0")} | {Cell(e.PeakRssBytes, 1 / MiB, "F0")} ");
                sb.AppendLine($"| {(e.OtherCoresDuring is { } o ? o.Median.ToString("F2") : "-")} |");
            }
            if (m.Engines.ContainsKey(EngineNames.EdgeLm) && m.Engines.Keys.Any(EngineNames.IsLlamaCpp))
            {
                sb.Append($"| {model} | **EdgeLm / llama.cpp** | {Ratio(m.Ratio.PromptTokensPerSecond)} | {Ratio(m.Ratio.TokensPerSecond)} ");
                sb.AppendLine($"| {Ratio(m.Ratio.TimeToFirstTokenSeconds)} | {Ratio(m.Ratio.PeakRssBytes)} | |");
            }
        }
        sb.AppendLine();

        foreach (var m in r.Results)
        {
            foreach (var (name, e) in m.Engines)
            {
                if (e.Error is { } error)
                    sb.AppendLine($"- {m.Size} {m.Type}, {EngineNames.Display(name)} FAILED: {error}");
            }
            // The issue's memory target for EdgeLm: file + KV cache + 64 MiB.
            if (m.Engines.GetValueOrDefault(EngineNames.EdgeLm) is { KvCacheBytes: { } kv, PeakRssBytes: { } rss })
                sb.AppendLine($"- {m.Size} {m.Type}: EdgeLm peak RSS {rss.Median / MiB:F0} MiB against the target file + KV cache + 64 MiB = {(m.FileBytes + kv) / MiB + 64:F0} MiB.");
        }
        foreach (string name in r.Results.SelectMany(m => m.Engines.Keys).Distinct())
        {
            var e = r.Results.Select(m => m.Engines.GetValueOrDefault(name)).FirstOrDefault(e => e?.Settings is not null);
            if (e is not null)
                sb.AppendLine($"- {EngineNames.Display(name)}: {e.Settings}; the .NET process held {e.RssBeforeLoadBytes / MiB:F0} MiB before loading the model.");
        }
        foreach (string shape in r.Results.Select(m => m.Shape).Distinct())
            sb.AppendLine($"- {shape}, vocabulary 32000 (llama SentencePiece), random weights.");
        return sb.ToString();
    }

    private static string Cell(Summary? s, double scale, string format) =>
        s is null ? "-" : $"{(s.Median * scale).ToString(format)} ({(s.Min * scale).ToString(format)}-{(s.Max * scale).ToString(format)})";

    private static string Ratio(PeerRatio? ratio) =>
        ratio is null ? "-" : $"**{ratio.Value:F2}x** ({(ratio.Peer == EngineNames.LlamaCppPassive ? "passive" : "default")})";
}
