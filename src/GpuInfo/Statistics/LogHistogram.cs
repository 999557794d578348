namespace GpuInfo;

/// <summary>
/// A mergeable quantile sketch for non-negative values spanning many decades (per-token KL): bins
/// 1% wide in log space over [1e-12, 1e6], plus a bin below (≤ 1e-12, including the slightly
/// negative values float32 rounding can give) and one for +inf, with exact min and max. Merging adds
/// counts, so it is exact; a percentile interpolates, as NumPy does, between the values of the two
/// closest ranks, each read to its bin's geometric centre: within 0.5% (relative) above 1e-12, within
/// 1e-12 (absolute) below.
/// </summary>
public sealed class LogHistogram
{
    public const double Lowest = 1e-12;
    public const double Highest = 1e6;
    public const double Growth = 1.01;

    private static readonly double LogGrowth = Math.Log(Growth);
    private static readonly int BinCount = (int)Math.Ceiling(Math.Log(Highest / Lowest) / LogGrowth);
    private readonly long[] _bins = new long[BinCount];

    public long Count { get; private set; }

    /// <summary>Values at or below <see cref="Lowest"/>.</summary>
    public long Below { get; private set; }

    /// <summary>+inf values (KL where the test model gives a token zero probability).</summary>
    public long Infinite { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>Relative error bound of a percentile above <see cref="Lowest"/>.</summary>
    public static double RelativeError => (Growth - 1) / 2;

    public void Add(double value)
    {
        if (double.IsNaN(value))
        {
            throw new ArgumentException("NaN cannot be added to a histogram.", nameof(value));
        }

        Count++;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        if (double.IsPositiveInfinity(value))
        {
            Infinite++;
        }
        else if (value <= Lowest)
        {
            Below++;
        }
        else
        {
            _bins[BinOf(value)]++;
        }
    }

    public void Merge(LogHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        Below += other.Below;
        Infinite += other.Infinite;
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
        return double.IsInfinity(b) || a == b ? (rank == lo ? a : b) : a + (b - a) * (rank - lo);
    }

    /// <summary>The value of the rank-th smallest entry, to its bin's centre (exact at the extremes).</summary>
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

        if (rank < Below)
        {
            return Math.Min(Lowest, Math.Max(Min, 0));
        }

        long seen = Below;
        for (int i = 0; i < _bins.Length; i++)
        {
            seen += _bins[i];
            if (rank < seen)
            {
                return Math.Clamp(Lowest * Math.Exp((i + 0.5) * LogGrowth), Min, Max);
            }
        }

        return double.PositiveInfinity;
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
    public static LogHistogram Restore(long below, long infinite, double min, double max, IEnumerable<(int Index, long Count)> bins)
    {
        var h = new LogHistogram { Below = below, Infinite = infinite, Min = min, Max = max };
        long count = below + infinite;
        foreach (var (index, n) in bins)
        {
            if (index < 0 || index >= BinCount || n < 0)
            {
                throw new ArgumentException($"histogram bin {index} (count {n}) is out of range.", nameof(bins));
            }

            h._bins[index] += n;
            count += n;
        }

        h.Count = count;
        return h;
    }

    private static int BinOf(double value) =>
        Math.Clamp((int)(Math.Log(value / Lowest) / LogGrowth), 0, BinCount - 1);
}
