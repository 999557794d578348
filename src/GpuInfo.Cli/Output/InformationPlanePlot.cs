namespace GpuInfo.Cli.Output;

/// <summary>The information plane of an IB curve (I(X;T) against I(T;Y)) drawn with ScottPlot.</summary>
internal static class InformationPlanePlot
{
    public static void Save(string path, IbCurve curve, string title)
    {
        var plot = new ScottPlot.Plot();
        var xs = curve.Points.Select(p => p.IxtBits).ToArray();
        var ys = curve.Points.Select(p => p.ItyBits).ToArray();
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = "IB solutions (one per beta)";
        var ceiling = plot.Add.HorizontalLine(curve.IxyBits);
        ceiling.LegendText = "I(X;Y)";
        ceiling.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Title($"Information plane: {title}");
        plot.XLabel("I(X;T) [bits]");
        plot.YLabel("I(T;Y) [bits]");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        try
        {
            if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase))
            {
                plot.SaveSvg(path, 800, 600);
            }
            else
            {
                plot.SavePng(path, 800, 600);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
