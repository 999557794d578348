namespace GpuInfo.Kernels;

/// <summary>
/// How a launch cuts rows into slices (vocab columns per row, slices per row, columns per slice),
/// and where its views start relative to a 16-byte boundary, which decides the columns that can
/// be read with wide loads (<see cref="WideSlice"/>).
/// </summary>
public struct SliceShape
{
    public int Vocab;
    public int Splits;
    public int SplitLength;

    /// <summary>Bytes from the previous 16-byte boundary to element 0 of the (first) logits view: 0 for a view at the start of an ILGPU allocation.</summary>
    public int Misalign;

    /// <summary>The same for the second input of the pair kernels.</summary>
    public int MisalignQ;

    public SliceShape(int vocab, int splits, int misalign = 0, int misalignQ = 0)
    {
        Vocab = vocab;
        Splits = splits;
        SplitLength = (vocab + splits - 1) / splits;
        Misalign = misalign;
        MisalignQ = misalignQ;
    }
}
