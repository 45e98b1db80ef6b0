using System.Globalization;
using System.Text;
using EdgeLm.Compression.Reporting;

namespace EdgeLm.Cli.Reporting;

/// <summary>
/// The comparison as an aligned plain-text table, one row per model (the original first), followed by lines that say
/// how each figure was measured. Numbers use the invariant culture so the table reads the same everywhere.
/// </summary>
internal static class ReportTable
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Column headers, in the order of <see cref="Cells"/>.</summary>
    public static readonly string[] Headers =
        ["model", "type", "size MiB", "BPW", "PPL", "ΔPPL %", "KLD mean", "KLD p99", "top-1 %", "tg tok/s", "pp tok/s"];

    /// <summary>One model's cells as printed.</summary>
    public static string[] Cells(ModelMeasurement m, ModelMeasurement original) =>
    [
        m.Name,
        m.File.FileType,
        m.File.FileMebibytes.ToString("F3", Invariant),
        m.File.BitsPerWeight.ToString("F2", Invariant),
        m.Perplexity.ToString("F4", Invariant),
        ((m.Perplexity / original.Perplexity - 1) * 100).ToString("+0.00;-0.00;0.00", Invariant),
        m.Divergence.Mean.ToString("F6", Invariant),
        m.Divergence.P99.ToString("F6", Invariant),
        (m.Divergence.TopTokenAgreement * 100).ToString("F2", Invariant),
        m.Speed.TokensPerSecond.ToString("F1", Invariant),
        m.Speed.PromptTokensPerSecond is { } pp ? pp.ToString("F1", Invariant) : "-",
    ];

    /// <summary>The table and its notes.</summary>
    public static string Format(ComparisonReport report)
    {
        var rows = new List<string[]> { Headers };
        rows.AddRange(report.Models.Select(m => Cells(m, report.Original)));
        int columns = Headers.Length;
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (int c = 0; c < columns; c++)
                widths[c] = Math.Max(widths[c], row[c].Length);
        }
        var text = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            var line = new StringBuilder();
            for (int c = 0; c < columns; c++)
            {
                if (c > 0)
                    line.Append("  ");
                // Names and types left-aligned, numbers right-aligned.
                line.Append(c < 2 ? rows[r][c].PadRight(widths[c]) : rows[r][c].PadLeft(widths[c]));
            }
            text.AppendLine(line.ToString().TrimEnd());
            if (r == 0)
                text.AppendLine(new string('-', widths.Sum() + 2 * (columns - 1)));
        }
        var speed = report.Original.Speed;
        text.AppendLine();
        text.AppendLine(string.Create(Invariant,
            $"PPL, KLD: {report.Chunks} chunks of {report.ContextLength} tokens, second half of each scored ({report.ScoredTokens} positions; the text has {report.TextTokens} tokens). KLD = KL(original || model) in nats; top-1 = same most likely token."));
        string prompt = speed.PromptTokens > 0 ? $", pp = the text's first {speed.PromptTokens} tokens in one call." : "; pp not measured.";
        text.AppendLine(string.Create(Invariant,
            $"speed: {speed.Threads} threads, {(speed.Repetitions == 1 ? "one run" : $"median of {speed.Repetitions} runs")} after a warm-up; tg = {speed.GeneratedTokens} tokens decoded greedily one at a time{prompt}"));
        text.AppendLine("BPW = all tensors' bytes x 8 / all tensors' elements (llama.cpp's BPW); size = the whole file.");
        text.AppendLine(report.ReferenceCached
            ? string.Create(Invariant, $"the original's scored logits were kept in memory ({report.ReferenceBytes / 1048576.0:F1} MiB) and reused for every variant.")
            : string.Create(Invariant, $"the original's scored logits ({report.ReferenceBytes / 1048576.0:F1} MiB) were over the budget, so it was evaluated again for each variant."));
        return text.ToString();
    }
}
