using System.Runtime.InteropServices;
using GpuInfo.Corpus;

namespace GpuInfo.Models;

/// <summary>
/// Pinned host memory that ONNX Runtime writes a batch's logits into and that chunks of rows are
/// handed out of without a copy (<see cref="RowBlock.UseMemory(ReadOnlyMemory{float})"/>). It
/// counts the blocks that still point into it, so the source reuses it only once they are refilled.
/// </summary>
internal sealed class LogitsBuffer
{
    private readonly float[]? _float32;
    private readonly Half[]? _float16;
    private readonly ushort[]? _bfloat16;

    public LogitsBuffer(ScalarType type, long capacity)
    {
        if (capacity > Array.MaxLength)
        {
            // One line (no "Actual value was" line): the message reaches the command line as it is.
            throw new ArgumentException($"a batch's logits ({capacity} values) must fit one array ({Array.MaxLength} values): use a smaller batch or context.");
        }

        int n = (int)capacity;
        Type = type;
        Capacity = capacity;
        Array array = type switch
        {
            ScalarType.Float32 => _float32 = GC.AllocateUninitializedArray<float>(n, pinned: true),
            ScalarType.Float16 => _float16 = GC.AllocateUninitializedArray<Half>(n, pinned: true),
            _ => _bfloat16 = GC.AllocateUninitializedArray<ushort>(n, pinned: true),
        };
        Address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
    }

    public ScalarType Type { get; }

    public long Capacity { get; }

    /// <summary>The first value's address (the array is pinned for its lifetime).</summary>
    public nint Address { get; }

    /// <summary>Blocks that point into this buffer.</summary>
    public int Users { get; set; }

    /// <summary>The first window held (see <see cref="Windows"/>), or -1 when none.</summary>
    public int FirstWindow { get; set; } = -1;

    /// <summary>How many consecutive windows the buffer holds, each <see cref="Length"/> positions long.</summary>
    public int Windows { get; set; }

    public int Length { get; set; }

    /// <summary>The value at <paramref name="index"/>, as a float.</summary>
    public float this[int index] => Type switch
    {
        ScalarType.Float32 => _float32![index],
        ScalarType.Float16 => (float)_float16![index],
        _ => BitConverter.Int32BitsToSingle(_bfloat16![index] << 16),
    };

    public bool Holds(int window) => FirstWindow >= 0 && window >= FirstWindow && window < FirstWindow + Windows;

    /// <summary>Points <paramref name="block"/> at <paramref name="rows"/> rows of logits from <paramref name="position"/> of <paramref name="window"/>.</summary>
    public void Hand(RowBlock block, int window, int position, int rows, int vocab)
    {
        int start = checked((((window - FirstWindow) * Length) + position) * vocab);
        int length = checked(rows * vocab);
        switch (Type)
        {
            case ScalarType.Float32:
                block.UseMemory(new ReadOnlyMemory<float>(_float32, start, length));
                break;
            case ScalarType.Float16:
                block.UseMemory(new ReadOnlyMemory<Half>(_float16, start, length));
                break;
            default:
                block.UseBFloat16Memory(new ReadOnlyMemory<ushort>(_bfloat16, start, length));
                break;
        }

        Users++;
    }
}
