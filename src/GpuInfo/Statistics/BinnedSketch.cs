namespace GpuInfo;

/// <summary>
/// The mechanism of GpuInfo's mergeable quantile sketches: counts in fixed bins plus the exact min
/// and max. Merging adds counts, so it is exact and order-free; a percentile interpolates, as
/// NumPy does, between the values of the two closest ranks, each read as its bin's representative
/// value (clamped to [min, max]; the extreme ranks are the exact min and max). Subclasses choose the
/// bins: <see cref="LogHistogram"/> (relative error, for KL) and <see cref="LinearHistogram"/>
/// (absolute error, for Δp).
/// </summary>
public abstract class BinnedSketch
{
    private readonly long[] _bins;

    protected BinnedSketch(int bins) => _bins = new long[bins];

    public long Count { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>The q-th percentile (0..100): NumPy's rank q/100·(n-1), interpolated between the closest ranks.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The percent is outside [0, 100] or NaN (NumPy refuses it too).</exception>
    public double Percentile(double percent)
    {
        if (!(percent is >= 0 and <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "a percentile is 0 to 100.");
        }

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
        return double.IsInfinity(b) || a == b ? (rank == lo ? a : b) : a + ((b - a) * (rank - lo));
    }

    /// <summary>The value reported for ranks that fall in <paramref name="bin"/>.</summary>
    protected abstract double Representative(int bin);

    protected long CountAt(int bin) => _bins[bin];

    protected void Add(int bin, double value)
    {
        Count++;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        _bins[bin]++;
    }

    protected void MergeFrom(BinnedSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.GetType() != GetType())
        {
            throw new ArgumentException($"a {other.GetType().Name} cannot be merged into a {GetType().Name}.", nameof(other));
        }

        Count += other.Count;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        for (int i = 0; i < _bins.Length; i++)
        {
            _bins[i] += other._bins[i];
        }
    }

    /// <summary>Sets a restored sketch's exact range.</summary>
    protected void RestoreRange(double min, double max)
    {
        Min = min;
        Max = max;
    }

    /// <summary>Adds a restored bin's count (the caller maps and checks the serialised index).</summary>
    /// <param name="serialised">What the partial calls the bin ("bin 2150", "below"), for the message.</param>
    protected void RestoreCount(int bin, long count, string serialised)
    {
        if (count < 0)
        {
            throw new ArgumentException($"histogram {serialised} has a negative count ({count}).", nameof(count));
        }

        _bins[bin] += count;
        Count += count;
    }

    /// <summary>Non-empty bins [first, first + count) as (index - first, count), for serialisation.</summary>
    protected IEnumerable<(int Index, long Count)> NonEmpty(int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            if (_bins[i] != 0)
            {
                yield return (i - first, _bins[i]);
            }
        }
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
                return Math.Clamp(Representative(i), Min, Max);
            }
        }

        return Max;
    }
}
