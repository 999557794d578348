namespace GpuInfo;

/// <summary>
/// A mergeable quantile sketch for values in [-1, 1] (Δp, a change in probability): 20000 bins of
/// width 1e-4, with exact min and max. Merging adds counts, so it is exact; a percentile
/// interpolates, as NumPy does, between the values of the two closest ranks, each read to its bin's
/// centre: within 5e-5 (absolute) of the exact percentile. Values outside [-1, 1] (float rounding)
/// fall in the end bins.
/// </summary>
public sealed class LinearHistogram
{
    public const double Lowest = -1;
    public const double Highest = 1;
    public const int BinCount = 20_000;

    /// <summary>Absolute error bound of a percentile.</summary>
    public const double AbsoluteError = (Highest - Lowest) / BinCount / 2;

    private readonly long[] _bins = new long[BinCount];

    public long Count { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"{value} cannot be added to a linear histogram.", nameof(value));
        }

        Count++;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        _bins[BinOf(value)]++;
    }

    public void Merge(LinearHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        for (int i = 0; i < _bins.Length; i++)
        {
            _bins[i] += other._bins[i];
        }
    }

    /// <summary>The q-th percentile (0..100): NumPy's rank q/100·(n-1), interpolated between the closest ranks.</summary>
    public double Percentile(double percent)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        if (percent <= 0)
        {
            return Min;
        }

        if (percent >= 100)
        {
            return Max;
        }

        double rank = percent / 100.0 * (Count - 1);
        long lo = (long)Math.Floor(rank);
        double a = ValueAtRank(lo), b = ValueAtRank(Math.Min(lo + 1, Count - 1));
        return a + ((b - a) * (rank - lo));
    }

    /// <summary>Non-empty bins as (index, count), for serialisation.</summary>
    public IEnumerable<(int Index, long Count)> Bins()
    {
        for (int i = 0; i < _bins.Length; i++)
        {
            if (_bins[i] != 0)
            {
                yield return (i, _bins[i]);
            }
        }
    }

    /// <summary>Rebuilds a histogram from its serialised parts.</summary>
    public static LinearHistogram Restore(double min, double max, IEnumerable<(int Index, long Count)> bins)
    {
        var h = new LinearHistogram { Min = min, Max = max };
        foreach (var (index, n) in bins)
        {
            if (index < 0 || index >= BinCount || n < 0)
            {
                throw new ArgumentException($"histogram bin {index} (count {n}) is out of range.", nameof(bins));
            }

            h._bins[index] += n;
            h.Count += n;
        }

        return h;
    }

    private double ValueAtRank(long rank)
    {
        if (rank == 0)
        {
            return Min;
        }

        if (rank == Count - 1)
        {
            return Max;
        }

        long seen = 0;
        for (int i = 0; i < _bins.Length; i++)
        {
            seen += _bins[i];
            if (rank < seen)
            {
                return Math.Clamp(Lowest + ((i + 0.5) * (Highest - Lowest) / BinCount), Min, Max);
            }
        }

        return Max;
    }

    private static int BinOf(double value) =>
        Math.Clamp((int)Math.Floor((value - Lowest) / (Highest - Lowest) * BinCount), 0, BinCount - 1);
}
