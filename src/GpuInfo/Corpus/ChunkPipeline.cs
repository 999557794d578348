namespace GpuInfo.Corpus;

/// <summary>
/// Reads consecutive chunks of rows [first, first + count) from one or more sources in lockstep,
/// one chunk ahead on a background task, into two alternating sets of blocks: reading overlaps
/// compute, and memory stays at two chunks whatever the source's size. Failures of a source's read
/// surface from <see cref="Next"/> as <see cref="RowSourceException"/> naming the source and rows.
/// </summary>
internal sealed class ChunkPipeline : IDisposable
{
    private readonly RowSource[] _sources;
    private readonly RowBlock[][] _slots;
    private readonly long _end;
    private readonly CancellationToken _cancellation;
    private long _next;
    private int _slot;
    private Task<RowBlock[]?>? _pending;

    public ChunkPipeline(RowSource[] sources, long first, long count, long chunkBytes, CancellationToken cancellation)
    {
        _sources = sources;
        _next = first;
        _end = first + count;
        _cancellation = cancellation;
        long rowBytes = sources.Sum(s => s.RowBytes);
        long maxRows = (int.MaxValue / 2) / sources.Max(s => s.RowBytes);
        ChunkRows = (int)Math.Clamp(chunkBytes / rowBytes, 1, Math.Max(1, Math.Min(Math.Min(count, maxRows), int.MaxValue / 2)));
        _slots = [NewSet(), NewSet()];
    }

    /// <summary>The most rows a chunk holds.</summary>
    public int ChunkRows { get; }

    /// <summary>The next chunk (one block per source), or null at the end. A chunk's blocks are reused two calls later.</summary>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public RowBlock[]? Next()
    {
        _cancellation.ThrowIfCancellationRequested();
        _pending ??= Task.Run(ReadNext);
        var chunk = _pending.GetAwaiter().GetResult();
        _pending = chunk is null ? null : Task.Run(ReadNext);
        return chunk;
    }

    /// <summary>Waits for a read in flight, so that no read runs after the caller disposes its sources.</summary>
    public void Dispose()
    {
        try
        {
            _pending?.Wait();
        }
        catch (AggregateException)
        {
            // The read's failure belongs to the chunk nobody asked for any more.
        }

        _pending = null;
    }

    private RowBlock[] NewSet() => [.. _sources.Select(s => new RowBlock(ChunkRows, s.Vocab, s.Type, s.HasTargets))];

    private RowBlock[]? ReadNext()
    {
        _cancellation.ThrowIfCancellationRequested();
        if (_next >= _end)
        {
            return null;
        }

        var blocks = _slots[_slot];
        _slot ^= 1;
        int rows = (int)Math.Min(ChunkRows, _end - _next);
        for (int i = 0; i < _sources.Length; i++)
        {
            blocks[i].Reset(_next, rows);
            try
            {
                _sources[i].Read(blocks[i]);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                string problem = e is Formats.InvalidFileException f && f.Path == _sources[i].Name ? f.Problem : e.Message;
                throw new RowSourceException(_sources[i].Name, -1, $"reading rows [{_next}, {_next + rows}): {problem}", e);
            }
        }

        _next += rows;
        return blocks;
    }
}
