namespace GpuInfo;

/// <summary>Percentiles with NumPy's default rule: linear interpolation between the closest ranks.</summary>
public static class Percentiles
{
    /// <summary>The percentiles reported by <c>gpuinfo compare</c>, with their JSON names.</summary>
    public static readonly IReadOnlyList<(string Name, double Percent)> Standard =
    [
        ("max", 100), ("p99.9", 99.9), ("p99", 99), ("p95", 95), ("p90", 90), ("median", 50),
        ("p10", 10), ("p5", 5), ("p1", 1), ("p0.1", 0.1), ("min", 0),
    ];

    /// <summary>The Δp percentiles reported by <c>gpuinfo compare</c> (llama.cpp's set), with their JSON names.</summary>
    public static readonly IReadOnlyList<(string Name, double Percent)> DeltaP =
    [
        ("max", 100), ("p99.9", 99.9), ("p99", 99), ("p95", 95), ("p90", 90), ("p75", 75), ("median", 50),
        ("p25", 25), ("p10", 10), ("p5", 5), ("p1", 1), ("p0.1", 0.1), ("min", 0),
    ];

    /// <summary>The q-th percentile (0..100) of sorted values; NaN for an empty set.</summary>
    public static double OfSorted(ReadOnlySpan<float> sorted, double percent)
    {
        if (!(percent >= 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "percent must be in [0, 100].");
        }

        if (sorted.IsEmpty)
        {
            return double.NaN;
        }

        double position = percent / 100.0 * (sorted.Length - 1);
        int lo = (int)Math.Floor(position);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        double frac = position - lo;
        return sorted[lo] + (sorted[hi] - (double)sorted[lo]) * frac;
    }

    /// <summary>A set of percentiles (default <see cref="Standard"/>), in order, from unsorted values (sorts a copy).</summary>
    public static IReadOnlyList<(string Name, double Value)> Compute(ReadOnlySpan<float> values, IReadOnlyList<(string Name, double Percent)>? set = null)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return [.. (set ?? Standard).Select(s => (s.Name, OfSorted(sorted, s.Percent)))];
    }
}
