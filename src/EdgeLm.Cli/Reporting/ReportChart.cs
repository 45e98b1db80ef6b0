using System.Globalization;
using EdgeLm.Compression.Reporting;
using ScottPlot;

namespace EdgeLm.Cli.Reporting;

/// <summary>
/// The comparison as a PNG made with ScottPlot: four panels in a 2 x 2 grid. Top left, each variant's mean KL divergence
/// (log scale) against its file size, with the original's size as a dashed line; top right, perplexity; bottom left,
/// generation speed; bottom right, bits per weight (one bar per model, the original first).
/// </summary>
internal static class ReportChart
{
    /// <summary>Default image width in pixels.</summary>
    public const int Width = 1400;

    /// <summary>Default image height in pixels.</summary>
    public const int Height = 1000;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>DejaVu Sans where the system has it (Debian's fonts-dejavu-core), else ScottPlot's own sans-serif choice.</summary>
    private static readonly Lazy<string> SansFont = new(() =>
        Fonts.GetTypeface("DejaVu Sans", bold: false, italic: false)?.FamilyName == "DejaVu Sans" ? "DejaVu Sans" : Fonts.Sans);

    /// <summary>Renders the chart and returns the PNG file's bytes.</summary>
    public static byte[] RenderPng(ComparisonReport report, int width = Width, int height = Height)
    {
        ArgumentNullException.ThrowIfNull(report);
        var multiplot = new Multiplot { Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2) };
        multiplot.AddPlots(4);
        string[] labels = report.Models.Select(m => Path.GetFileNameWithoutExtension(m.Name)).ToArray();

        DivergenceBySize(multiplot.GetPlot(0), report, labels);
        Bars(multiplot.GetPlot(1), labels, report.Models.Select(m => m.Perplexity).ToArray(), "F3",
            $"perplexity ({report.ScoredTokens} positions, context {report.ContextLength})", "perplexity");
        var speed = report.Original.Speed;
        Bars(multiplot.GetPlot(2), labels, report.Models.Select(m => m.Speed.TokensPerSecond).ToArray(), "F0",
            $"generation speed ({speed.Threads} threads, {speed.GeneratedTokens} tokens, {(speed.Repetitions == 1 ? "one run" : $"median of {speed.Repetitions} runs")})", "tokens per second");
        Bars(multiplot.GetPlot(3), labels, report.Models.Select(m => m.File.BitsPerWeight).ToArray(), "F2",
            "bits per weight (all tensors)", "bits per weight");

        using var image = multiplot.Render(width, height);
        return image.GetImageBytes(ImageFormat.Png);
    }

    /// <summary>Mean KLD (log10 axis) against file size for the variants; a variant with KLD 0 sits on the floor, labelled so.</summary>
    private static void DivergenceBySize(Plot plot, ComparisonReport report, string[] labels)
    {
        Style(plot, "mean KL divergence from the original vs file size", "file size (MiB)", "mean KLD (nats, log scale)");
        var variants = report.Models.Select((m, i) => (m, label: labels[i])).Where(x => !x.m.IsOriginal).ToArray();
        double smallest = variants.Select(x => x.m.Divergence.Mean).Where(v => v > 0).DefaultIfEmpty(1e-6).Min();
        double floor = Math.Log10(smallest) - 1;
        var xs = new double[variants.Length];
        var ys = new double[variants.Length];
        for (int i = 0; i < variants.Length; i++)
        {
            var (m, label) = variants[i];
            xs[i] = m.File.FileMebibytes;
            ys[i] = m.Divergence.Mean > 0 ? Math.Log10(m.Divergence.Mean) : floor;
            var text = plot.Add.Text(m.Divergence.Mean > 0 ? label : $"{label} (KLD 0)", xs[i], ys[i]);
            text.OffsetX = 7;
            text.OffsetY = -4;
            text.LabelFontSize = 13;
        }
        var points = plot.Add.ScatterPoints(xs, ys);
        points.MarkerSize = 11;

        double originalSize = report.Original.File.FileMebibytes;
        var line = plot.Add.VerticalLine(originalSize);
        line.LinePattern = LinePattern.Dashed;

        double low = ys.DefaultIfEmpty(floor).Min(), high = ys.DefaultIfEmpty(floor).Max();
        bool decades = high - low >= 1;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = decades,
            LabelFormatter = y => Math.Pow(10, y).ToString("G2", Invariant),
            MinorTickGenerator = decades ? new ScottPlot.TickGenerators.LogMinorTickGenerator() : new ScottPlot.TickGenerators.EvenlySpacedMinorTickGenerator(2),
        };
        double maxSize = Math.Max(originalSize, xs.DefaultIfEmpty(originalSize).Max());
        plot.Axes.SetLimitsX(0, maxSize * 1.15);
        double pad = Math.Max(0.25, (high - low) * 0.15);
        plot.Axes.SetLimitsY(low - pad, high + pad);
        var note = plot.Add.Text(string.Create(Invariant, $"original {labels[0]}\n{originalSize:F3} MiB, KLD 0"), originalSize, high + pad);
        note.Alignment = Alignment.UpperRight;
        note.OffsetX = -6;
        note.OffsetY = 6;
        note.LabelFontSize = 13;
        note.LabelFontColor = line.Color;
    }

    /// <summary>One bar per model with its value on top.</summary>
    private static void Bars(Plot plot, string[] labels, double[] values, string format, string title, string axis)
    {
        Style(plot, title, "", axis);
        var bars = plot.Add.Bars(values);
        for (int i = 0; i < bars.Bars.Count; i++)
        {
            bars.Bars[i].Label = values[i].ToString(format, Invariant);
            if (i == 0)
                bars.Bars[i].FillColor = Colors.Gray;
        }
        bars.ValueLabelStyle.FontSize = 13;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, labels.Length).Select(i => (double)i).ToArray(), labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -20;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.MinimumSize = 70;
        plot.Axes.Margins(bottom: 0, top: 0.15);
    }

    private static void Style(Plot plot, string title, string x, string y)
    {
        plot.Font.Set(SansFont.Value);
        plot.Title(title, size: 15);
        plot.XLabel(x, size: 13);
        plot.YLabel(y, size: 13);
    }
}
