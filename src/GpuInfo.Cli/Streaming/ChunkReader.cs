using GpuInfo.Formats;

namespace GpuInfo.Cli.Streaming;

/// <summary>
/// Reads consecutive row chunks of one or more logits files (and their targets) one chunk ahead on
/// a background task, into two alternating buffer sets: file reading overlaps compute, and memory
/// stays at two chunks whatever the file size.
/// </summary>
internal sealed class ChunkReader
{
    private readonly LogitsFile[] _files;
    private readonly TargetPlan? _targets;
    private readonly long _end;
    private readonly int _chunkRows;
    private readonly Chunk[] _chunks;
    private long _next;
    private int _slot;
    private Task<Chunk?>? _pending;

    public ChunkReader(LogitsFile[] files, TargetPlan? targets, long firstRow, long rows, long chunkBytes)
    {
        _files = files;
        _targets = targets;
        _next = firstRow;
        _end = firstRow + rows;
        long rowBytes = files.Sum(f => f.RowBytes);
        _chunkRows = (int)Math.Clamp(chunkBytes / Math.Max(1, rowBytes), 1, Math.Max(1, Math.Min(rows, int.MaxValue / Math.Max(1, files.Max(f => f.RowBytes)))));
        var bytes = files.Select(f => f.RowBytes).ToArray();
        _chunks = [new Chunk(files.Length, _chunkRows, bytes), new Chunk(files.Length, _chunkRows, bytes)];
    }

    public int ChunkRows => _chunkRows;

    /// <summary>The next chunk, or null at the end. The previous chunk's buffers are reused two calls later.</summary>
    public Chunk? Next()
    {
        _pending ??= Task.Run(ReadNext);
        var chunk = _pending.GetAwaiter().GetResult();
        _pending = chunk is null ? null : Task.Run(ReadNext);
        return chunk;
    }

    private Chunk? ReadNext()
    {
        if (_next >= _end)
        {
            return null;
        }

        var chunk = _chunks[_slot];
        _slot ^= 1;
        int rows = (int)Math.Min(_chunkRows, _end - _next);
        chunk.FirstRow = _next;
        chunk.Rows = rows;
        for (int i = 0; i < _files.Length; i++)
        {
            _files[i].ReadInto(_next, rows, chunk.Buffers[i]);
        }

        _targets?.Read(_next, chunk.Targets.AsSpan(0, rows));
        _next += rows;
        return chunk;
    }
}
