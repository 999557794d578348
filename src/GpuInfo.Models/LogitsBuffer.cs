using System.Buffers;
using System.Runtime.InteropServices;
using GpuInfo.Corpus;

namespace GpuInfo.Models;

/// <summary>
/// Native memory that ONNX Runtime writes a batch's logits into and that chunks of rows are handed
/// out of without a copy (<see cref="RowBlock.UseMemory(ReadOnlyMemory{float})"/>). It counts the
/// blocks that still point into it, so the source reuses it only once they are refilled.
/// </summary>
/// <remarks>
/// Native, not an array: one window of a long context over a large vocabulary is more values than
/// an array holds (16,384 positions of Qwen2.5's 152,064 classes are 2.49e9, Array.MaxLength is
/// 2.15e9), while each chunk handed out is a few rows. A handed chunk's memory keeps the buffer
/// reachable, so it is not finalized while a block still points into it.
/// </remarks>
internal sealed unsafe class LogitsBuffer : IDisposable
{
    private const nuint Alignment = 64;
    private byte* _memory;

    /// <exception cref="InsufficientMemoryException">The memory is not there (names the size).</exception>
    public LogitsBuffer(ScalarType type, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Type = type;
        Capacity = capacity;
        ElementBytes = type == ScalarType.Float32 ? 4 : 2;
        long bytes = checked(capacity * ElementBytes);
        try
        {
            _memory = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, Alignment);
        }
        catch (OutOfMemoryException)
        {
            throw new InsufficientMemoryException($"a batch's logits ({capacity} values, {bytes / 1e9:F1} GB) do not fit in memory: use a smaller batch or context.");
        }

        GC.AddMemoryPressure(bytes);
    }

    ~LogitsBuffer() => Free();

    public ScalarType Type { get; }

    public long Capacity { get; }

    public int ElementBytes { get; }

    /// <summary>The first value's address.</summary>
    public nint Address => _memory != null ? (nint)_memory : throw new ObjectDisposedException(nameof(LogitsBuffer));

    /// <summary>Blocks that point into this buffer.</summary>
    public int Users { get; set; }

    /// <summary>The first window held (see <see cref="Windows"/>), or -1 when none.</summary>
    public int FirstWindow { get; set; } = -1;

    /// <summary>How many consecutive windows the buffer holds, each's logits <see cref="Length"/> positions long.</summary>
    public int Windows { get; set; }

    /// <summary>Positions of each window held: its last ones, from <see cref="FirstPosition"/> on (a model that keeps only the last logits).</summary>
    public int Length { get; set; }

    /// <summary>The window position of each window's first logits held (0 unless the model kept only the last <see cref="Length"/>).</summary>
    public int FirstPosition { get; set; }

    /// <summary>The value at <paramref name="index"/>, as a float.</summary>
    public float this[long index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
            byte* at = (byte*)Address + (index * ElementBytes);
            return Type switch
            {
                ScalarType.Float32 => *(float*)at,
                ScalarType.Float16 => (float)*(Half*)at,
                _ => BitConverter.Int32BitsToSingle(*(ushort*)at << 16),
            };
        }
    }

    public bool Holds(int window) => FirstWindow >= 0 && window >= FirstWindow && window < FirstWindow + Windows;

    /// <summary>
    /// Where the held windows' logits lie: window <see cref="FirstWindow"/> + i in slot <c>Slots[i]</c>. Windows whose
    /// inputs are the same (requests that differ only in their last token, as a multiple-choice question's one-token
    /// answers do) share one slot, run once; null where each window has its own, in order.
    /// </summary>
    public int[]? Slots { get; set; }

    /// <summary>Points <paramref name="block"/> at <paramref name="rows"/> rows of logits from <paramref name="position"/> of <paramref name="window"/>.</summary>
    public void Hand(RowBlock block, int window, int position, int rows, int vocab)
    {
        int slot = Slots?[window - FirstWindow] ?? window - FirstWindow;
        long start = (((long)slot * Length) + position - FirstPosition) * vocab;
        int length = checked(rows * vocab);
        if (position < FirstPosition || position - FirstPosition + rows > Length || start < 0 || start + length > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{start / vocab}, {(start / vocab) + rows}) lie outside the buffer's {Capacity / vocab} rows.");
        }

        byte* at = (byte*)Address + (start * ElementBytes);
        switch (Type)
        {
            case ScalarType.Float32:
                block.UseMemory(new Slice<float>(this, (float*)at, length).Memory);
                break;
            case ScalarType.Float16:
                block.UseMemory(new Slice<Half>(this, (Half*)at, length).Memory);
                break;
            default:
                block.UseBFloat16Memory(new Slice<ushort>(this, (ushort*)at, length).Memory);
                break;
        }

        Users++;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
            GC.RemoveMemoryPressure(Capacity * ElementBytes);
        }
    }

    /// <summary>A chunk's values in the buffer, as the Memory a block reads; it holds the buffer, so the buffer outlives it.</summary>
    private sealed class Slice<T>(LogitsBuffer owner, T* values, int length) : MemoryManager<T>
        where T : unmanaged
    {
        public LogitsBuffer Owner { get; } = owner;

        public override Span<T> GetSpan() => new(values, length);

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, length);
            return new MemoryHandle(values + elementIndex);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
