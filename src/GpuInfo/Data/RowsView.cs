namespace GpuInfo;

/// <summary>Pinned logits as the backends see them: an address, a shape and an element type.</summary>
internal readonly record struct RowsView(nint Data, long Rows, int Vocab, ScalarType Type)
{
    public long RowBytes => (long)Vocab * Type.Size();

    public RowsView Slice(long firstRow, long rows) => new(Data + (nint)(firstRow * RowBytes), rows, Vocab, Type);
}
