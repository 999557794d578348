namespace GpuInfo.Cli.Streaming;

/// <summary>One chunk of rows read by <see cref="ChunkReader"/>: raw logits buffers (one per file) and targets.</summary>
internal sealed class Chunk(int files, long rowCapacity, long[] rowBytes)
{
    public byte[][] Buffers { get; } = [.. Enumerable.Range(0, files).Select(i => new byte[rowCapacity * rowBytes[i]])];

    public long[] Targets { get; } = new long[rowCapacity];

    public long FirstRow { get; set; }

    public int Rows { get; set; }
}
