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
        double width = 1.0 / calibration.BinCount;

        // The slot of confidences of exactly 1 (its own, as torchmetrics counts it) is a thin bar at 1.
        var reliability = new ScottPlot.Plot();
        reliability.Add.Bars(bins.Where(b => b.Tokens > 0).Select(b => new ScottPlot.Bar
        {
            Position = Position(b.Low, b.High, width),
            Value = b.Accuracy,
            Size = Size(b.Low, b.High, width),
            LineWidth = 0,
        }).ToArray());
        var gaps = bins.Where(b => b.Tokens > 0).ToArray();
        var confidence = reliability.Add.Scatter(gaps.Select(b => b.Confidence).ToArray(), gaps.Select(b => b.Confidence).ToArray());
        confidence.LineWidth = 0;
        confidence.LegendText = "mean confidence of the bin";
        var diagonal = reliability.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
        reliability.Axes.SetLimits(0, 1 + (width / 4), 0, 1);
        reliability.Title(string.Create(CultureInfo.InvariantCulture,
            $"{title}: top-1 reliability, {calibration.Tokens} tokens, ECE {calibration.ExpectedCalibrationError:F4}, MCE {calibration.MaximumCalibrationError:F4}, RMS {calibration.RootMeanSquareCalibrationError:F4}{Brier(calibration)}"));
        reliability.XLabel($"confidence (the argmax's probability), {calibration.BinCount} bins and exactly 1");
        reliability.YLabel("accuracy of the bin's top-1 predictions");

        var histogram = new ScottPlot.Plot();
        histogram.Add.Bars(bins.Select(b => new ScottPlot.Bar { Position = Position(b.Low, b.High, width), Value = b.Tokens, Size = Size(b.Low, b.High, width), LineWidth = 0 }).ToArray());
        histogram.Axes.SetLimitsX(0, 1 + (width / 4));
        histogram.Title(string.Create(CultureInfo.InvariantCulture, $"confidences: mean {calibration.MeanConfidence:F4}"));
        histogram.XLabel("confidence");
        histogram.YLabel("tokens");
        PlotFile.Save(path, [reliability, histogram], Width, PanelHeight);
    }

    /// <summary>", Brier 0.1234" where the Brier score is known (not from version 6 partials).</summary>
    private static string Brier(CalibrationBins calibration) =>
        calibration.HasBrierScore ? string.Create(CultureInfo.InvariantCulture, $", Brier {calibration.BrierScore:F4}") : "";

    /// <summary>Several models' reliability curves in one panel (accuracy at each bin's mean confidence), with the diagonal.</summary>
    public static ScottPlot.Plot Curves(string title, params (string Label, CalibrationBins Bins)[] models)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, calibration) in models)
        {
            var points = calibration.Bins().Where(b => b.Tokens > 0).ToArray();
            var curve = plot.Add.Scatter(points.Select(b => b.Confidence).ToArray(), points.Select(b => b.Accuracy).ToArray());
            curve.LegendText = string.Create(CultureInfo.InvariantCulture, $"{label}: ECE {calibration.ExpectedCalibrationError:F4}{Brier(calibration)}");
        }

        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title(title);
        plot.XLabel($"mean confidence of the bin ({models.FirstOrDefault().Bins?.BinCount ?? CalibrationBins.DefaultBins} bins and exactly 1)");
        plot.YLabel("accuracy of the bin's top-1 predictions");
        return plot;
    }

    private static double Position(double low, double high, double width) => low == high ? 1 + (width / 8) : (low + high) / 2;

    private static double Size(double low, double high, double width) => low == high ? width / 4 : width * 0.9;
}
