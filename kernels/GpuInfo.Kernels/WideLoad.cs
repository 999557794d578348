using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Kernels;

/// <summary>
/// 16-byte loads of stored logits. ILGPU's PTX backend emits one vector load for a 16-byte (or
/// 8-byte) struct read through a view it can prove aligned: <c>Cast</c> to <see cref="Words16"/>
/// then <c>AsAligned(16)</c>. Callers guarantee the alignment (<see cref="WideSlice"/>). ILGPU's
/// <c>AlignTo</c> is not used: in 1.5.3 its PTX masks the address with the alignment instead of
/// the alignment minus one, so it misjudges which addresses are aligned.
/// </summary>
public static class WideLoad
{
    public const int Bytes = 16;

    /// <summary>Columns one wide load covers for one input: 4 float32 or 8 16-bit logits.</summary>
    public static int Width<T>()
        where T : unmanaged => Bytes / Interop.SizeOf<T>();

    /// <summary>
    /// Columns per step for a pair of inputs read side by side: 16 bytes of the wider dtype, so a
    /// 16-bit input beside a float32 one reads 8 bytes.
    /// </summary>
    public static int Width<TP, TQ>()
        where TP : unmanaged
        where TQ : unmanaged => Bytes / Math.Max(Interop.SizeOf<TP>(), Interop.SizeOf<TQ>());

    /// <summary>
    /// Where element 0 of a view sits in a cycle of <paramref name="width"/> columns whose first
    /// column is aligned to a wide load, given its byte offset past a 16-byte boundary; -1 when
    /// the view is not aligned to its element size (then nothing is read wide).
    /// </summary>
    public static int Phase<T>(int misalignBytes, int width)
        where T : unmanaged
    {
        int size = Interop.SizeOf<T>();
        return misalignBytes % size != 0 ? -1 : misalignBytes / size % width;
    }

    /// <summary>The phase two inputs share, or -1 when no column starts a wide load in both.</summary>
    public static int Phase<TP, TQ>(int misalignP, int misalignQ, int width)
        where TP : unmanaged
        where TQ : unmanaged
    {
        int p = Phase<TP>(misalignP, width);
        return p == Phase<TQ>(misalignQ, width) ? p : -1;
    }

    /// <summary>
    /// Reads <paramref name="width"/> logits from <paramref name="index"/>, whose address must be
    /// aligned to their size (16 or 8 bytes), with one load.
    /// </summary>
    public static Words16 Read<T>(ArrayView<T> view, long index, int width)
        where T : unmanaged
    {
        var chunk = view.SubView(index, width);
        if (width * Interop.SizeOf<T>() == Bytes)
        {
            return chunk.Cast<Words16>().AsAligned(Bytes)[0];
        }

        var half = chunk.Cast<Words8>().AsAligned(Bytes / 2)[0];
        return new Words16 { X = half.X, Y = half.Y };
    }

    /// <summary>Logit <paramref name="k"/> of a chunk read by <see cref="Read"/>.</summary>
    public static float Lane<T, TLoad>(Words16 words, int k)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        int perWord = 4 / Interop.SizeOf<T>();
        int i = k / perWord;
        uint word = i == 0 ? words.X : i == 1 ? words.Y : i == 2 ? words.Z : words.W;
        return default(TLoad).FromWord(word, k - i * perWord);
    }
}
