using System.Globalization;

namespace GpuInfo.Corpus;

/// <summary>One contiguous share of a source's rows: share <see cref="Index"/> (from 0) of <see cref="Count"/>.</summary>
public readonly record struct Shard
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> &lt; 1, or <paramref name="index"/> outside [0, count).</exception>
    public Shard(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (index < 0 || index >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"a shard index must be in [0, {count}).");
        }

        Index = index;
        Count = count;
    }

    public int Index { get; }

    public int Count { get; }

    /// <summary>The whole source: share 0 of 1.</summary>
    public static Shard All => new(0, 1);

    /// <summary>Parses "i/n" with 0 &lt;= i &lt; n.</summary>
    public static bool TryParse(string? text, out Shard shard)
    {
        shard = All;
        var parts = text?.Split('/');
        if (parts is not { Length: 2 }
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || n < 1 || i >= n)
        {
            return false;
        }

        shard = new Shard(i, n);
        return true;
    }

    /// <summary>Rows [First, First + Count) of this shard out of <paramref name="rows"/>; shards tile the rows exactly.</summary>
    public (long First, long Count) Range(long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long first = (long)((Int128)rows * Index / Count);
        long end = (long)((Int128)rows * (Index + 1) / Count);
        return (first, end - first);
    }

    public override string ToString() => $"{Index}/{Count}";
}
