namespace GpuInfo.Kernels;

/// <summary>How a launch cuts rows into slices: vocab columns per row, slices per row, columns per slice.</summary>
public struct SliceShape
{
    public int Vocab;
    public int Splits;
    public int SplitLength;

    public SliceShape(int vocab, int splits)
    {
        Vocab = vocab;
        Splits = splits;
        SplitLength = (vocab + splits - 1) / splits;
    }
}
