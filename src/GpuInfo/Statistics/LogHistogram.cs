namespace GpuInfo;

/// <summary>
/// A mergeable quantile sketch (<see cref="BinnedSketch"/>) for non-negative values spanning many
/// decades (per-token KL): bins 1% wide in log space over [1e-12, 1e6], read at their geometric
/// centres, plus a bin below (≤ 1e-12, including the slightly negative values float32 rounding can
/// give) and one for +inf. A percentile is within 0.5% (relative) of the exact one above 1e-12,
/// within 1e-12 (absolute) below.
/// </summary>
public sealed class LogHistogram() : BinnedSketch(LogBins + 2)
{
    public const double Lowest = 1e-12;
    public const double Highest = 1e6;
    public const double Growth = 1.01;

    private static readonly double LogGrowth = Math.Log(Growth);
    private static readonly int LogBins = (int)Math.Ceiling(Math.Log(Highest / Lowest) / LogGrowth);

    /// <summary>Values at or below <see cref="Lowest"/>.</summary>
    public long Below => CountAt(0);

    /// <summary>+inf values (KL where the test model gives a token zero probability).</summary>
    public long Infinite => CountAt(LogBins + 1);

    /// <summary>Relative error bound of a percentile above <see cref="Lowest"/>.</summary>
    public static double RelativeError => (Growth - 1) / 2;

    public void Add(double value)
    {
        if (double.IsNaN(value))
        {
            throw new ArgumentException("NaN cannot be added to a histogram.", nameof(value));
        }

        Add(double.IsPositiveInfinity(value) ? LogBins + 1 : value <= Lowest ? 0 : 1 + BinOf(value), value);
    }

    public void Merge(LogHistogram other) => MergeFrom(other);

    /// <summary>Non-empty log bins as (index, count), for serialisation (<see cref="Below"/> and <see cref="Infinite"/> apart).</summary>
    public IEnumerable<(int Index, long Count)> Bins() => NonEmpty(1, LogBins);

    /// <summary>Rebuilds a histogram from its serialised parts.</summary>
    public static LogHistogram Restore(long below, long infinite, double min, double max, IEnumerable<(int Index, long Count)> bins)
    {
        var h = new LogHistogram();
        h.RestoreRange(min, max);
        h.RestoreCount(0, below, "count below its range");
        h.RestoreCount(LogBins + 1, infinite, "count of infinite values");
        foreach (var (index, n) in bins)
        {
            if (index < 0 || index >= LogBins)
            {
                throw new ArgumentException($"histogram bin {index} (count {n}) is out of range.", nameof(bins));
            }

            h.RestoreCount(index + 1, n, $"bin {index}");
        }

        return h;
    }

    protected override double Representative(int bin) =>
        bin == 0 ? Math.Min(Lowest, Math.Max(Min, 0))
        : bin == LogBins + 1 ? double.PositiveInfinity
        : Lowest * Math.Exp((bin - 1 + 0.5) * LogGrowth);

    private static int BinOf(double value) =>
        Math.Clamp((int)(Math.Log(value / Lowest) / LogGrowth), 0, LogBins - 1);
}
