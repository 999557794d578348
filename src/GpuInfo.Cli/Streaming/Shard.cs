namespace GpuInfo.Cli.Streaming;

/// <summary>One contiguous share of rows, from <c>--shard i/n</c> (i counts from 0).</summary>
internal readonly record struct Shard(int Index, int Count)
{
    public static Shard All => new(0, 1);

    public static Shard Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return All;
        }

        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
        {
            throw CliException.Usage($"--shard must be i/n with 0 <= i < n, got '{text}'.");
        }

        return new Shard(i, n);
    }

    /// <summary>Rows [first, first + count) of this shard out of <paramref name="rows"/>.</summary>
    public (long First, long Count) Range(long rows)
    {
        long first = rows * Index / Count;
        long end = rows * (Index + 1) / Count;
        return (first, end - first);
    }

    public override string ToString() => $"{Index}/{Count}";
}
