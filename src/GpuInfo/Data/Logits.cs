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

    /// <summary>Number of rows (tokens).</summary>
    public long Rows { get; }

    /// <summary>Entries per row (the vocabulary size).</summary>
    public int Vocab { get; }

    /// <summary>The element type: float32, fp16 or bfloat16.</summary>
    public ScalarType Type { get; }

    /// <summary>Rows × vocab, as a 64-bit count.</summary>
    public long ElementCount => Rows * Vocab;

    /// <summary>float32 logits; the span's length must be a multiple of <paramref name="vocab"/>.</summary>
    public static Logits Float32(ReadOnlySpan<float> values, int vocab) => Float32(values, vocab, nameof(values));

    /// <summary>fp16 logits; the span's length must be a multiple of <paramref name="vocab"/>.</summary>
    public static Logits Float16(ReadOnlySpan<Half> values, int vocab) =>
        new(ref Bytes(values), RowsOf(values.Length, vocab, nameof(values)), vocab, ScalarType.Float16);

    /// <summary>bfloat16 logits given as their 16-bit payloads.</summary>
    public static Logits BFloat16(ReadOnlySpan<ushort> bits, int vocab) =>
        new(ref Bytes(bits), RowsOf(bits.Length, vocab, nameof(bits)), vocab, ScalarType.BFloat16);

    /// <summary>Rows of <paramref name="type"/> given as their bytes.</summary>
    public static Logits FromBytes(ReadOnlySpan<byte> bytes, int vocab, ScalarType type)
    {
        CheckType(type);
        Guard.Vocab(vocab);
        long rowBytes = (long)vocab * type.Size();
        if (bytes.Length % rowBytes != 0)
        {
            throw new ArgumentException(
                $"The logits hold {bytes.Length} bytes, which is not a whole number of rows of vocab {vocab} ({rowBytes} bytes of {type} a row).", nameof(bytes));
        }

        return type switch
        {
            ScalarType.Float32 => Float32(MemoryMarshal.Cast<byte, float>(bytes), vocab),
            ScalarType.Float16 => Float16(MemoryMarshal.Cast<byte, Half>(bytes), vocab),
            _ => BFloat16(MemoryMarshal.Cast<byte, ushort>(bytes), vocab),
        };
    }

    /// <summary>Logits in unmanaged (or pinned) memory of any size; the caller keeps it alive and unmoved.</summary>
    public static unsafe Logits FromPointer(void* data, long rows, int vocab, ScalarType type)
    {
        if (data == null && rows > 0)
        {
            throw new ArgumentNullException(nameof(data));
        }

        Guard.Vocab(vocab);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        CheckType(type);
        long maxRows = long.MaxValue / ((long)vocab * type.Size());
        if (rows > maxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"at most {maxRows} rows of vocab {vocab} ({type}) fit in a 64-bit byte offset; got {rows}.");
        }

        return new(ref Unsafe.AsRef<byte>(data), rows, vocab, type);
    }

    /// <summary>As the public overload, naming the span <paramref name="name"/> in errors (it is the caller's parameter).</summary>
    internal static Logits Float32(ReadOnlySpan<float> values, int vocab, string name) =>
        new(ref Bytes(values), RowsOf(values.Length, vocab, name), vocab, ScalarType.Float32);

    internal unsafe RowsView Pin(byte* pinned) => new((nint)pinned, Rows, Vocab, Type);

    private static ref byte Bytes<T>(ReadOnlySpan<T> values)
        where T : unmanaged =>
        ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(values));

    private static void CheckType(ScalarType type)
    {
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a ScalarType.");
        }
    }

    private static long RowsOf(int length, int vocab, string name)
    {
        Guard.Vocab(vocab);
        if (length % vocab != 0)
        {
            throw new ArgumentException(
                $"The logits hold {length} values, which is not a whole number of rows of vocab {vocab}.", name);
        }

        return length / vocab;
    }
}
