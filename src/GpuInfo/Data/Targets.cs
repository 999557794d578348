namespace GpuInfo;

/// <summary>Target class indices, one per row, as int32 or int64 (PyTorch uses int64).</summary>
public readonly ref struct Targets
{
    private readonly ReadOnlySpan<int> _int32;
    private readonly ReadOnlySpan<long> _int64;

    /// <summary>int32 target indices, one per row; a row whose target is the ignore index (default -100) is skipped.</summary>
    public Targets(ReadOnlySpan<int> values)
    {
        _int32 = values;
        Length = values.Length;
        IsPresent = true;
    }

    /// <summary>int64 target indices, one per row, as PyTorch holds them.</summary>
    public Targets(ReadOnlySpan<long> values)
    {
        _int64 = values;
        Length = values.Length;
        Is64Bit = true;
        IsPresent = true;
    }

    /// <summary>Number of targets (must equal the logits' rows).</summary>
    public int Length { get; }

    /// <summary>True when the targets are int64.</summary>
    public bool Is64Bit { get; }

    /// <summary>False for <c>default(Targets)</c>: no targets given.</summary>
    public bool IsPresent { get; }

    /// <summary>The target of <paramref name="row"/>, widened to 64 bits.</summary>
    public long this[int row] => Is64Bit ? _int64[row] : _int32[row];

    /// <summary>int32 targets from an array.</summary>
    public static implicit operator Targets(int[] values) => new(values);

    /// <summary>int64 targets from an array.</summary>
    public static implicit operator Targets(long[] values) => new(values);

    /// <summary>int32 targets from a span.</summary>
    public static implicit operator Targets(ReadOnlySpan<int> values) => new(values);

    /// <summary>int64 targets from a span.</summary>
    public static implicit operator Targets(ReadOnlySpan<long> values) => new(values);

    /// <summary>int32 targets from a span.</summary>
    public static implicit operator Targets(Span<int> values) => new(values);

    /// <summary>int64 targets from a span.</summary>
    public static implicit operator Targets(Span<long> values) => new(values);
}
