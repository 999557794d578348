using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Hands the CPU passes float32 blocks of a row: float32 rows are read in place, fp16 and bf16 rows
/// are widened into a per-thread scratch block that stays in L1.
/// </summary>
internal static class BlockLoader
{
    /// <summary>Columns per block: 8 KiB of float32, small enough that a second read hits L1.</summary>
    public const int BlockSize = 2048;

    [ThreadStatic]
    private static float[]? t_scratchP;

    [ThreadStatic]
    private static float[]? t_scratchQ;

    // Padded so that the passes' prefetches past a scratch block (at most a block ahead) land in the scratch array itself.
    public static float[] ScratchP => t_scratchP ??= new float[2 * BlockSize];

    public static float[] ScratchQ => t_scratchQ ??= new float[2 * BlockSize];

    /// <summary>Columns [begin, begin+count) of <paramref name="row"/> as float32 (count ≤ BlockSize for 16-bit types).</summary>
    public static unsafe ReadOnlySpan<float> Load(in RowsView view, long row, int begin, int count, float[] scratch)
    {
        nint start = view.Data + (nint)(row * view.RowBytes);
        switch (view.Type)
        {
            case ScalarType.Float32:
                return new ReadOnlySpan<float>((float*)start + begin, count);
            case ScalarType.Float16:
                Prefetch.Next(start + (begin + count) * 2, Math.Min(count, view.Vocab - begin - count) * 2);
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)start + begin, count), scratch);
                return scratch.AsSpan(0, count);
            default:
                Prefetch.Next(start + (begin + count) * 2, Math.Min(count, view.Vocab - begin - count) * 2);
                WidenBFloat16(new ReadOnlySpan<ushort>((ushort*)start + begin, count), scratch);
                return scratch.AsSpan(0, count);
        }
    }

    /// <summary>A whole row as float32, into <paramref name="destination"/> (at least Vocab long).</summary>
    public static unsafe void LoadRow(in RowsView view, long row, Span<float> destination)
    {
        nint start = view.Data + (nint)(row * view.RowBytes);
        switch (view.Type)
        {
            case ScalarType.Float32:
                new ReadOnlySpan<float>((float*)start, view.Vocab).CopyTo(destination);
                break;
            case ScalarType.Float16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>((Half*)start, view.Vocab), destination);
                break;
            default:
                WidenBFloat16(new ReadOnlySpan<ushort>((ushort*)start, view.Vocab), destination);
                break;
        }
    }

    /// <summary>One element as float32.</summary>
    public static unsafe float LoadOne(in RowsView view, long row, int column)
    {
        nint start = view.Data + (nint)(row * view.RowBytes);
        return view.Type switch
        {
            ScalarType.Float32 => ((float*)start)[column],
            ScalarType.Float16 => (float)((Half*)start)[column],
            _ => BFloat16Bits.ToSingle(((ushort*)start)[column]),
        };
    }

    /// <summary>bf16 payloads to float32: zero-extend and shift into the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 16; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                Vector256.ShiftLeft(lo, 16).AsSingle().StoreUnsafe(ref dst, (nuint)i);
                Vector256.ShiftLeft(hi, 16).AsSingle().StoreUnsafe(ref dst, (nuint)(i + 8));
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = BFloat16Bits.ToSingle(source[i]);
        }
    }
}
