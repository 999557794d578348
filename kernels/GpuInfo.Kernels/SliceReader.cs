using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Reads a slice of one row (or of a pair of rows) once, the group's threads sharing it, and folds
/// every column in: the scalar head and tail of a <see cref="WideSlice"/> one column a thread, the
/// body one wide load a thread a step (consecutive threads read consecutive 16 bytes: coalesced).
/// Each thread sees its columns in ascending order (head, chunks, tail), and which thread folds
/// which column depends only on the group size, the slice and the view's alignment: the order of
/// accumulation is fixed for a launch.
/// </summary>
public static class SliceReader
{
    public static TFold Read<T, TLoad, TFold>(ArrayView<T> logits, RowSlice slice, int misalign, TFold fold)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
        where TFold : struct, IColumnFold
    {
        int width = WideLoad.Width<T>();
        var wide = new WideSlice(slice, width, WideLoad.Phase<T>(misalign, width));
        long row = slice.RowOffset;
        for (int j = slice.Begin + Group.IdxX; j < wide.BodyBegin; j += Group.DimX)
        {
            fold.Add(default(TLoad).Load(logits[row + j]), j);
        }

        for (int j = wide.BodyBegin + Group.IdxX * width; j < wide.BodyEnd; j += Group.DimX * width)
        {
            fold = Chunk<T, TLoad, TFold>(fold, WideLoad.Read(logits, row + j, width), j, width);
        }

        for (int j = wide.BodyEnd + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            fold.Add(default(TLoad).Load(logits[row + j]), j);
        }

        return fold;
    }

    public static TFold Read<TP, TLoadP, TQ, TLoadQ, TFold>(ArrayView<TP> p, ArrayView<TQ> q, RowSlice slice,
        int misalignP, int misalignQ, TFold fold)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
        where TFold : struct, IPairColumnFold
    {
        int width = WideLoad.Width<TP, TQ>();
        var wide = new WideSlice(slice, width, WideLoad.Phase<TP, TQ>(misalignP, misalignQ, width));
        long row = slice.RowOffset;
        for (int j = slice.Begin + Group.IdxX; j < wide.BodyBegin; j += Group.DimX)
        {
            fold.Add(default(TLoadP).Load(p[row + j]), default(TLoadQ).Load(q[row + j]), j);
        }

        for (int j = wide.BodyBegin + Group.IdxX * width; j < wide.BodyEnd; j += Group.DimX * width)
        {
            fold = Chunk<TP, TLoadP, TQ, TLoadQ, TFold>(fold, WideLoad.Read(p, row + j, width), WideLoad.Read(q, row + j, width), j, width);
        }

        for (int j = wide.BodyEnd + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            fold.Add(default(TLoadP).Load(p[row + j]), default(TLoadQ).Load(q[row + j]), j);
        }

        return fold;
    }

    // Chunks are unrolled by hand (ILGPU 1.5.3 leaves its loop unrolling off): with constant lanes
    // the word selection folds away, and `width` is a constant of the specialisation.
    private static TFold Chunk<T, TLoad, TFold>(TFold fold, Words16 w, int j, int width)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
        where TFold : struct, IColumnFold
    {
        fold.Add(WideLoad.Lane<T, TLoad>(w, 0), j);
        fold.Add(WideLoad.Lane<T, TLoad>(w, 1), j + 1);
        fold.Add(WideLoad.Lane<T, TLoad>(w, 2), j + 2);
        fold.Add(WideLoad.Lane<T, TLoad>(w, 3), j + 3);
        if (width == 8)
        {
            fold.Add(WideLoad.Lane<T, TLoad>(w, 4), j + 4);
            fold.Add(WideLoad.Lane<T, TLoad>(w, 5), j + 5);
            fold.Add(WideLoad.Lane<T, TLoad>(w, 6), j + 6);
            fold.Add(WideLoad.Lane<T, TLoad>(w, 7), j + 7);
        }

        return fold;
    }

    private static TFold Chunk<TP, TLoadP, TQ, TLoadQ, TFold>(TFold fold, Words16 wp, Words16 wq, int j, int width)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
        where TFold : struct, IPairColumnFold
    {
        fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 0), WideLoad.Lane<TQ, TLoadQ>(wq, 0), j);
        fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 1), WideLoad.Lane<TQ, TLoadQ>(wq, 1), j + 1);
        fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 2), WideLoad.Lane<TQ, TLoadQ>(wq, 2), j + 2);
        fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 3), WideLoad.Lane<TQ, TLoadQ>(wq, 3), j + 3);
        if (width == 8)
        {
            fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 4), WideLoad.Lane<TQ, TLoadQ>(wq, 4), j + 4);
            fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 5), WideLoad.Lane<TQ, TLoadQ>(wq, 5), j + 5);
            fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 6), WideLoad.Lane<TQ, TLoadQ>(wq, 6), j + 6);
            fold.Add(WideLoad.Lane<TP, TLoadP>(wp, 7), WideLoad.Lane<TQ, TLoadQ>(wq, 7), j + 7);
        }

        return fold;
    }
}
