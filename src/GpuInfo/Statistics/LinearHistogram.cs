namespace GpuInfo;

/// <summary>
/// A mergeable quantile sketch (<see cref="BinnedSketch"/>) for values in [-1, 1] (Δp, a change in
/// probability): 20000 bins of width 1e-4 read at their centres, so a percentile is within 5e-5
/// (absolute) of the exact one. Values outside [-1, 1] (float rounding) fall in the end bins.
/// </summary>
public sealed class LinearHistogram() : BinnedSketch(BinTotal)
{
    public const double Lowest = -1;
    public const double Highest = 1;
    public const int BinTotal = 20_000;

    /// <summary>Absolute error bound of a percentile.</summary>
    public const double AbsoluteError = (Highest - Lowest) / BinTotal / 2;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"{value} cannot be added to a linear histogram.", nameof(value));
        }

        Add(Math.Clamp((int)Math.Floor((value - Lowest) / (Highest - Lowest) * BinTotal), 0, BinTotal - 1), value);
    }

    public void Merge(LinearHistogram other) => MergeFrom(other);

    /// <summary>Non-empty bins as (index, count), for serialisation.</summary>
    public IEnumerable<(int Index, long Count)> Bins() => NonEmpty(0, BinTotal);

    /// <summary>Rebuilds a histogram from its serialised parts.</summary>
    public static LinearHistogram Restore(double min, double max, IEnumerable<(int Index, long Count)> bins)
    {
        var h = new LinearHistogram();
        h.RestoreRange(min, max);
        foreach (var (index, n) in bins)
        {
            if (index < 0 || index >= BinTotal)
            {
                throw new ArgumentException($"histogram bin {index} (count {n}) is out of range.", nameof(bins));
            }

            h.RestoreCount(index, n, $"bin {index}");
        }

        return h;
    }

    protected override double Representative(int bin) => Lowest + ((bin + 0.5) * (Highest - Lowest) / BinTotal);
}
