using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Maps a group of a split-vocabulary launch to its row and column range. A launch has
/// rows × splits groups; group g handles row g / splits, columns [split·len, min(V, (split+1)·len)).
/// With one split this is the one-group-per-row layout.
/// </summary>
public readonly struct RowSlice
{
    public readonly int Row;
    public readonly int Begin;
    public readonly int End;
    public readonly long RowOffset;

    public RowSlice(int group, int splits, int splitLength, int vocab)
    {
        Row = group / splits;
        int split = group - Row * splits;
        Begin = split * splitLength;
        End = Math.Min(vocab, Begin + splitLength);
        RowOffset = (long)Row * vocab;
    }

    public static RowSlice Current(int splits, int splitLength, int vocab) =>
        new(Grid.IdxX, splits, splitLength, vocab);
}
