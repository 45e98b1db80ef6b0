using System.Text;

namespace EdgeLm.Benchmarks;

/// <summary>The report as Markdown: one row per model file, each cell "median (min-max)", ratios EdgeLm / llama.cpp.</summary>
internal static class Table
{
    private const double MiB = 1024 * 1024;

    public static string Markdown(BenchReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{r.Date}; {r.Cpu} ({r.Machine}); {r.Threads} threads; {r.Repetitions} repetitions per engine after a warm-up in each process.");
        sb.AppendLine($"Load average (1, 5, 15 min) before: {r.LoadAverageBefore}; after: {r.LoadAverageAfter}.");
        sb.AppendLine($"Command: `{r.Command}`");
        sb.AppendLine();
        sb.AppendLine($"Each cell: median (min-max). Ratio = EdgeLm / llama.cpp of the medians: above 1 is better for pp and tg, below 1 for time to first token and RSS.");
        sb.AppendLine();
        string pp = $"pp{r.PromptTokens} tok/s", tg = $"tg{r.GeneratedTokens} tok/s", ttft = $"TTFT ({r.TtftPromptTokens} tok) ms";
        sb.AppendLine($"| model | file MiB | {pp} EdgeLm | llama.cpp | ratio | {tg} EdgeLm | llama.cpp | ratio | {ttft} EdgeLm | llama.cpp | ratio | peak RSS MiB EdgeLm | llama.cpp | ratio | EdgeLm RSS target MiB | others' load, cores (EdgeLm / llama.cpp rounds) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in r.Results)
        {
            // The issue's memory target: file + KV cache + 64 MiB.
            string budget = m.Edgelm?.KvCacheBytes is { } kv ? $"{(m.FileBytes + kv) / MiB + 64:F0}" : "-";
            sb.Append($"| {m.Size} {m.Type} | {m.FileBytes / MiB:F0} ");
            sb.Append($"| {Cell(m.Edgelm?.PromptTokensPerSecond, 1, "F1")} | {Cell(m.Llamacpp?.PromptTokensPerSecond, 1, "F1")} | {Ratio(m.Ratio.PromptTokensPerSecond)} ");
            sb.Append($"| {Cell(m.Edgelm?.TokensPerSecond, 1, "F1")} | {Cell(m.Llamacpp?.TokensPerSecond, 1, "F1")} | {Ratio(m.Ratio.TokensPerSecond)} ");
            sb.Append($"| {Cell(m.Edgelm?.TimeToFirstTokenSeconds, 1000, "F0")} | {Cell(m.Llamacpp?.TimeToFirstTokenSeconds, 1000, "F0")} | {Ratio(m.Ratio.TimeToFirstTokenSeconds)} ");
            sb.Append($"| {Cell(m.Edgelm?.PeakRssBytes, 1 / MiB, "F0")} | {Cell(m.Llamacpp?.PeakRssBytes, 1 / MiB, "F0")} | {Ratio(m.Ratio.PeakRssBytes)} ");
            sb.AppendLine($"| {budget} | {Cell(m.Edgelm?.OtherCoresDuring, 1, "F2")} / {Cell(m.Llamacpp?.OtherCoresDuring, 1, "F2")} |");
        }
        sb.AppendLine();
        foreach (var m in r.Results)
        {
            foreach (var (name, e) in new[] { ("EdgeLm", m.Edgelm), ("llama.cpp", m.Llamacpp) })
            {
                if (e?.Error is { } error)
                    sb.AppendLine($"- {m.Size} {m.Type}, {name} FAILED: {error}");
            }
        }
        var first = r.Results.FirstOrDefault();
        if (first?.Edgelm?.Settings is { } es)
            sb.AppendLine($"- EdgeLm: {es}; .NET process baseline before loading {first.Edgelm.RssBeforeLoadBytes / MiB:F0} MiB RSS.");
        if (first?.Llamacpp?.Settings is { } ls)
            sb.AppendLine($"- llama.cpp (LLamaSharp 0.30.0): {ls}; .NET process baseline before loading {first.Llamacpp.RssBeforeLoadBytes / MiB:F0} MiB RSS.");
        foreach (var shape in r.Results.Select(m => m.Shape).Distinct())
            sb.AppendLine($"- {shape}, vocabulary 32000 (llama SentencePiece), random weights.");
        return sb.ToString();
    }

    private static string Cell(Summary? s, double scale, string format) =>
        s is null ? "-" : $"{(s.Median * scale).ToString(format)} ({(s.Min * scale).ToString(format)}-{(s.Max * scale).ToString(format)})";

    private static string Ratio(double? ratio) => ratio is { } x ? $"{x:F2}x" : "-";
}
