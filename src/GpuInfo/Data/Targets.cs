namespace GpuInfo;

/// <summary>Target class indices, one per row, as int32 or int64 (PyTorch uses int64).</summary>
public readonly ref struct Targets
{
    private readonly ReadOnlySpan<int> _int32;
    private readonly ReadOnlySpan<long> _int64;

    public Targets(ReadOnlySpan<int> values)
    {
        _int32 = values;
        Length = values.Length;
        IsPresent = true;
    }

    public Targets(ReadOnlySpan<long> values)
    {
        _int64 = values;
        Length = values.Length;
        Is64Bit = true;
        IsPresent = true;
    }

    public int Length { get; }

    public bool Is64Bit { get; }

    /// <summary>False for <c>default(Targets)</c>: no targets given.</summary>
    public bool IsPresent { get; }

    public long this[int row] => Is64Bit ? _int64[row] : _int32[row];

    public static implicit operator Targets(int[] values) => new(values);

    public static implicit operator Targets(long[] values) => new(values);

    public static implicit operator Targets(ReadOnlySpan<int> values) => new(values);

    public static implicit operator Targets(ReadOnlySpan<long> values) => new(values);

    public static implicit operator Targets(Span<int> values) => new(values);

    public static implicit operator Targets(Span<long> values) => new(values);
}
