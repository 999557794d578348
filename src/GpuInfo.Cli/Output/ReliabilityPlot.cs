using System.Globalization;

namespace GpuInfo.Cli.Output;

/// <summary>
/// <c>eval --plot</c>: the reliability diagram of the top-1 predictions (accuracy against mean
/// confidence per bin, with the diagonal a calibrated model follows) over the histogram of the
/// confidences, from the evaluation's mergeable calibration bins, as two panels of one .svg or .png.
/// </summary>
internal static class ReliabilityPlot
{
    private const int Width = 900, PanelHeight = 420;

    public static void Save(string path, CalibrationBins calibration, string title)
    {
        var bins = calibration.Bins().ToList();
        double width = 1.0 / CalibrationBins.Count;

        var reliability = new ScottPlot.Plot();
        reliability.Add.Bars(bins.Where(b => b.Tokens > 0).Select(b => new ScottPlot.Bar
        {
            Position = (b.Low + b.High) / 2,
            Value = b.Accuracy,
            Size = width * 0.9,
            LineWidth = 0,
        }).ToArray());
        var gaps = bins.Where(b => b.Tokens > 0).ToArray();
        var confidence = reliability.Add.Scatter(gaps.Select(b => b.Confidence).ToArray(), gaps.Select(b => b.Confidence).ToArray());
        confidence.LineWidth = 0;
        confidence.LegendText = "mean confidence of the bin";
        var diagonal = reliability.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
        reliability.Axes.SetLimits(0, 1, 0, 1);
        reliability.Title(string.Create(CultureInfo.InvariantCulture,
            $"{title}: top-1 reliability, {calibration.Tokens} tokens, ECE {calibration.ExpectedCalibrationError:F4}, MCE {calibration.MaximumCalibrationError:F4}"));
        reliability.XLabel($"confidence (the argmax's probability), {CalibrationBins.Count} bins");
        reliability.YLabel("accuracy of the bin's top-1 predictions");

        var histogram = new ScottPlot.Plot();
        histogram.Add.Bars(bins.Select(b => new ScottPlot.Bar { Position = (b.Low + b.High) / 2, Value = b.Tokens, Size = width * 0.9, LineWidth = 0 }).ToArray());
        histogram.Axes.SetLimitsX(0, 1);
        histogram.Title(string.Create(CultureInfo.InvariantCulture, $"confidences: mean {calibration.MeanConfidence:F4}"));
        histogram.XLabel("confidence");
        histogram.YLabel("tokens");
        PlotFile.Save(path, [reliability, histogram], Width, PanelHeight);
    }

    /// <summary>Several models' reliability curves in one panel (accuracy at each bin's mean confidence), with the diagonal.</summary>
    public static ScottPlot.Plot Curves(string title, params (string Label, CalibrationBins Bins)[] models)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, calibration) in models)
        {
            var points = calibration.Bins().Where(b => b.Tokens > 0).ToArray();
            var curve = plot.Add.Scatter(points.Select(b => b.Confidence).ToArray(), points.Select(b => b.Accuracy).ToArray());
            curve.LegendText = string.Create(CultureInfo.InvariantCulture, $"{label}: ECE {calibration.ExpectedCalibrationError:F4}");
        }

        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title(title);
        plot.XLabel($"mean confidence of the bin ({CalibrationBins.Count} bins)");
        plot.YLabel("accuracy of the bin's top-1 predictions");
        return plot;
    }
}
