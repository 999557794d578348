using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>
/// A read-only view of row-major logits <c>[rows, vocab]</c> in host memory, as float32, fp16 or
/// bfloat16. Build one from a span (up to 2^31 elements) or, for larger tensors, from a pointer;
/// every offset inside GpuInfo is 64-bit.
/// </summary>
public readonly ref struct Logits
{
    internal readonly ref readonly byte Start;

    private Logits(ref readonly byte start, long rows, int vocab, ScalarType type)
    {
        Start = ref start;
        Rows = rows;
        Vocab = vocab;
        Type = type;
    }

    public long Rows { get; }

    public int Vocab { get; }

    public ScalarType Type { get; }

    public long ElementCount => Rows * Vocab;

    public static Logits Float32(ReadOnlySpan<float> values, int vocab) =>
        new(ref Bytes(values), RowsOf(values.Length, vocab), vocab, ScalarType.Float32);

    public static Logits Float16(ReadOnlySpan<Half> values, int vocab) =>
        new(ref Bytes(values), RowsOf(values.Length, vocab), vocab, ScalarType.Float16);

    /// <summary>bfloat16 logits given as their 16-bit payloads.</summary>
    public static Logits BFloat16(ReadOnlySpan<ushort> bits, int vocab) =>
        new(ref Bytes(bits), RowsOf(bits.Length, vocab), vocab, ScalarType.BFloat16);

    /// <summary>Rows of <paramref name="type"/> given as their bytes.</summary>
    public static Logits FromBytes(ReadOnlySpan<byte> bytes, int vocab, ScalarType type) => type switch
    {
        ScalarType.Float32 => Float32(MemoryMarshal.Cast<byte, float>(bytes), vocab),
        ScalarType.Float16 => Float16(MemoryMarshal.Cast<byte, Half>(bytes), vocab),
        ScalarType.BFloat16 => BFloat16(MemoryMarshal.Cast<byte, ushort>(bytes), vocab),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a ScalarType."),
    };

    /// <summary>Logits in unmanaged (or pinned) memory of any size; the caller keeps it alive and unmoved.</summary>
    public static unsafe Logits FromPointer(void* data, long rows, int vocab, ScalarType type)
    {
        if (data == null && rows > 0)
        {
            throw new ArgumentNullException(nameof(data));
        }

        Guard.Vocab(vocab);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        return new(ref Unsafe.AsRef<byte>(data), rows, vocab, type);
    }

    internal unsafe RowsView Pin(byte* pinned) => new((nint)pinned, Rows, Vocab, Type);

    private static ref byte Bytes<T>(ReadOnlySpan<T> values)
        where T : unmanaged =>
        ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(values));

    private static long RowsOf(int length, int vocab)
    {
        Guard.Vocab(vocab);
        if (length % vocab != 0)
        {
            throw new ArgumentException(
                $"The logits hold {length} values, which is not a whole number of rows of vocab {vocab}.", "values");
        }

        return length / vocab;
    }
}
