using System.Globalization;

namespace GpuInfo.Cli.Output;

/// <summary>
/// <c>compare --plot</c>: the distribution of per-token KL(base||test) on a log axis and, with
/// targets, of Δp, each with its percentiles marked, and both models' top-1 reliability curves,
/// drawn from the comparison's mergeable sketches and bins (so a merged report draws the same
/// picture) as panels of one .svg or .png.
/// </summary>
internal static class ComparisonPlot
{
    private const int Width = 900, PanelHeight = 420;
    private static readonly string[] Marked = ["p1", "p10", "median", "p90", "p99", "p99.9"];

    public static void Save(string path, ComparisonAccumulator t, string title)
    {
        var panels = new List<ScottPlot.Plot> { KlPanel(t, title) };
        if (t.HasTargets)
        {
            panels.Add(DeltaPPanel(t));
            if (t.CalibrationBase is { } b && t.CalibrationTest is { } q)
            {
                panels.Add(ReliabilityPlot.Curves("top-1 reliability of both models", ("base", b), (title, q)));
            }
        }

        PlotFile.Save(path, panels, Width, PanelHeight);
    }

    private static ScottPlot.Plot KlPanel(ComparisonAccumulator t, string title)
    {
        var plot = new ScottPlot.Plot();
        var bins = t.KlSketch.Bins().ToList();
        var bars = bins.Select(b => new ScottPlot.Bar
        {
            Position = Math.Log10(LogHistogram.Lowest) + ((b.Index + 0.5) * Math.Log10(LogHistogram.Growth)),
            Value = b.Count,
            Size = Math.Log10(LogHistogram.Growth),
            LineWidth = 0,
        }).ToList();
        plot.Add.Bars(bars);
        Mark(plot, t.KlPercentiles(), v => v > 0 ? Math.Log10(v) : double.NaN, v => v.ToString("G3", CultureInfo.InvariantCulture));
        plot.Title($"{title}: per-token KL(base||test), {t.Tokens} tokens ({t.KlSketch.Below} at or below 1e-12, {t.KlSketch.Infinite} infinite)");
        plot.XLabel("log10 KL [nats] (bins 1% wide)");
        plot.YLabel("tokens");
        return plot;
    }

    private static ScottPlot.Plot DeltaPPanel(ComparisonAccumulator t)
    {
        var plot = new ScottPlot.Plot();
        var sketch = t.DeltaPSketch;
        double lo = Math.Max(LinearHistogram.Lowest, sketch.Min), hi = Math.Min(LinearHistogram.Highest, sketch.Max);
        const int Shown = 200;
        double width = Math.Max((hi - lo) / Shown, 2 * LinearHistogram.AbsoluteError);
        var counts = new double[Shown + 1];
        foreach (var (index, count) in sketch.Bins())
        {
            double centre = LinearHistogram.Lowest + ((index + 0.5) * 2 * LinearHistogram.AbsoluteError);
            counts[Math.Clamp((int)((centre - lo) / width), 0, Shown)] += count;
        }

        plot.Add.Bars(counts.Select((c, i) => new ScottPlot.Bar { Position = 100 * (lo + ((i + 0.5) * width)), Value = c, Size = 100 * width, LineWidth = 0 }).ToArray());
        Mark(plot, t.DeltaPPercentiles(), v => 100 * v, v => (100 * v).ToString("F3", CultureInfo.InvariantCulture) + "%");
        plot.Title($"per-token Δp = p_test(target) − p_base(target): mean {100 * t.MeanDeltaP:F3}%, RMS {100 * t.RmsDeltaP:F3}%");
        plot.XLabel("Δp [percentage points]");
        plot.YLabel("tokens");
        return plot;
    }

    private static void Mark(ScottPlot.Plot plot, IReadOnlyList<(string Name, double Value)> percentiles, Func<double, double> x, Func<double, string> label)
    {
        foreach (var (name, value) in percentiles.Where(p => Marked.Contains(p.Name)))
        {
            double position = x(value);
            if (double.IsFinite(position))
            {
                var line = plot.Add.VerticalLine(position);
                line.LinePattern = ScottPlot.LinePattern.Dashed;
                line.Text = $"{name} {label(value)}";
            }
        }
    }
}
