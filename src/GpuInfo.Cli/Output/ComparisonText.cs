using System.Globalization;

namespace GpuInfo.Cli.Output;

/// <summary>
/// The human-readable comparison report, laid out as llama.cpp's <c>perplexity --kl-divergence</c>
/// prints it (Q is the test model), so that its users find every figure where they expect it.
/// </summary>
internal static class ComparisonText
{
    public static void Write(TextWriter o, string title, ComparisonAccumulator t, string device, double seconds)
    {
        o.WriteLine($"{title}: {t.Tokens} tokens, {device}, {F(seconds, 3)} s");
        if (t.HasTargets)
        {
            o.WriteLine();
            o.WriteLine("====== Perplexity statistics ======");
            o.WriteLine($"Mean PPL(Q)                   : {F(t.PerplexityTest, 6),10} ± {F(t.PerplexityTestError, 6),10}");
            o.WriteLine($"Mean PPL(base)                : {F(t.PerplexityBase, 6),10} ± {F(t.PerplexityBaseError, 6),10}");
            o.WriteLine($"Cor(ln(PPL(Q)), ln(PPL(base))): {F(100 * t.LnPerplexityCorrelation, 2),6}%");
            o.WriteLine($"Mean ln(PPL(Q)/PPL(base))     : {F(t.MeanLnPerplexityRatio, 6),10} ± {F(t.MeanLnPerplexityRatioError, 6),10}");
            o.WriteLine($"Mean PPL(Q)/PPL(base)         : {F(t.PerplexityRatio, 6),10} ± {F(t.PerplexityRatioError, 6),10}");
            o.WriteLine($"Mean PPL(Q)-PPL(base)         : {F(t.PerplexityDifference, 6),10} ± {F(t.PerplexityDifferenceError, 6),10}");
        }

        o.WriteLine();
        o.WriteLine($"====== KL divergence statistics{(t.HasAllValues ? string.Empty : " (percentiles from merged sketches)")} ======");
        o.WriteLine($"Mean    KLD: {F(t.MeanKl, 6),10} ± {F(t.MeanKlError, 6),10}");
        foreach (var (name, value) in t.KlPercentiles())
        {
            o.WriteLine($"{Label(name),-8}KLD: {F(value, 6),10}");
        }

        if (t.HasReverseKl)
        {
            o.WriteLine($"Reverse KLD: {F(t.MeanReverseKl, 6),10} ± {F(t.MeanReverseKlError, 6),10}   (KL(Q||base), mean)");
        }

        o.WriteLine();
        o.WriteLine("====== Token probability statistics ======");
        if (t.HasTargets)
        {
            o.WriteLine($"Mean    Δp: {F(100 * t.MeanDeltaP, 3),6} ± {F(100 * t.MeanDeltaPError, 3),5} %");
            foreach (var (name, value) in t.DeltaPPercentiles())
            {
                o.WriteLine($"{Label(name),-8}Δp: {F(100 * value, 3),6}%");
            }

            o.WriteLine($"RMS Δp    : {F(100 * t.RmsDeltaP, 3),6} ± {F(100 * t.RmsDeltaPError, 3),5} %");
        }

        o.WriteLine($"Same top p: {F(100 * t.SameTop1Fraction, 3),6} ± {F(100 * t.SameTop1FractionError, 3),5} %");
        o.WriteLine($"Mean    JS: {F(t.MeanJs, 6),10} ± {F(t.MeanJsError, 6),10}");
        if (t.HasTotalVariation)
        {
            o.WriteLine($"Mean   TVD: {F(t.MeanTotalVariation, 6),10} ± {F(t.MeanTotalVariationError, 6),10}");
            o.WriteLine($"Accepted  : {F(100 * t.AcceptanceRate, 3),6} ± {F(100 * t.MeanTotalVariationError, 3),5} %   (1 − TVD: Q drafting for base in speculative sampling)");
        }
        if (t.HasTargets && t.CalibrationBase is { } b && t.CalibrationTest is { } q)
        {
            o.WriteLine();
            o.WriteLine($"====== Top-1 calibration ({b.BinCount} bins) ======");
            o.WriteLine($"Accuracy        base, Q: {F(100 * b.Accuracy, 3),7}%, {F(100 * q.Accuracy, 3),7}%");
            o.WriteLine($"Mean confidence base, Q: {F(100 * b.MeanConfidence, 3),7}%, {F(100 * q.MeanConfidence, 3),7}%");
            o.WriteLine($"ECE             base, Q: {F(b.ExpectedCalibrationError, 6),10}, {F(q.ExpectedCalibrationError, 6),10}");
            o.WriteLine($"MCE             base, Q: {F(b.MaximumCalibrationError, 6),10}, {F(q.MaximumCalibrationError, 6),10}");
            o.WriteLine($"RMS CE          base, Q: {F(b.RootMeanSquareCalibrationError, 6),10}, {F(q.RootMeanSquareCalibrationError, 6),10}");
            o.WriteLine($"Brier score     base, Q: {F(b.BrierScore, 6),10} ± {F(b.BrierScoreError, 6)}, {F(q.BrierScore, 6),10} ± {F(q.BrierScoreError, 6)}");
            o.WriteLine($"Brier Q − base         : {F(t.MeanBrierDifference, 6),10} ± {F(t.MeanBrierDifferenceError, 6)}");
        }
    }

    /// <summary>llama.cpp's labels: "Maximum", "99.9%", "99.0%", " 5.0%" (one decimal, width 4), "Median", "Minimum".</summary>
    private static string Label(string name) => name switch
    {
        "max" => "Maximum",
        "min" => "Minimum",
        "median" => "Median",
        _ => double.Parse(name[1..], CultureInfo.InvariantCulture).ToString("0.0", CultureInfo.InvariantCulture).PadLeft(4) + "%",
    };

    private static string F(double value, int decimals) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
        : double.IsNaN(value) ? "n/a" : value > 0 ? "inf" : "-inf";
}
