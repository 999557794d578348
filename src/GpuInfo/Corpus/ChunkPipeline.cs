using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace GpuInfo.Corpus;

/// <summary>
/// Reads consecutive chunks of rows [first, first + count) from one or more sources in lockstep on
/// a background task, into a pool of block sets (one per consumer plus one): reading runs a chunk
/// ahead of the compute, and memory stays at consumers + 1 chunks whatever the source's size.
/// When a source does not read ahead (<see cref="RowSource.ReadAhead"/>), there is no background
/// task: <see cref="Take"/> reads the next chunk on the consumer's thread, one consumer at a time,
/// into a pool of one set per consumer. Consumers <see cref="Take"/> a chunk, use it and
/// <see cref="Return"/> it. A failed read surfaces from <see cref="Take"/> as
/// <see cref="RowSourceException"/> naming the source and rows.
/// </summary>
internal sealed class ChunkPipeline : IDisposable
{
    private readonly RowSource[] _sources;
    private readonly long _first;
    private readonly long _end;
    private readonly CancellationToken _cancellation;
    private readonly CancellationTokenSource _stop;
    private readonly BlockingCollection<RowBlock[]> _free = [];
    private readonly BlockingCollection<RowBlock[]> _ready;
    private readonly Task? _reader;
    private readonly Lock _inTurn = new();
    private long _next;

    /// <param name="buffers">Where the blocks' buffers come from and go back to when the pipeline is disposed; null: fresh ones.</param>
    public ChunkPipeline(RowSource[] sources, long first, long count, long chunkBytes, int consumers, CancellationToken cancellation, BlockBuffers? buffers = null)
    {
        _sources = sources;
        _first = first;
        _end = first + count;
        _cancellation = cancellation;
        long rowBytes = sources.Sum(s => s.RowBytes);
        long maxRows = (int.MaxValue / 2) / sources.Max(s => s.RowBytes);
        ChunkRows = (int)Math.Clamp(chunkBytes / rowBytes, 1, Math.Max(1, Math.Min(count, maxRows)));
        bool readAhead = sources.All(s => s.ReadAhead);
        for (int i = 0; i < consumers + (readAhead ? 1 : 0); i++)
        {
            _free.Add([.. sources.Select(s => new RowBlock(ChunkRows, s.Vocab, s.Type, s.HasTargets, s.HasTargetBytes, buffers, s.HasTargetWords))]);
        }

        _next = first;
        _ready = new BlockingCollection<RowBlock[]>(consumers + 1);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _reader = readAhead ? Task.Run(Read) : null;
    }

    /// <summary>The most rows a chunk holds.</summary>
    public int ChunkRows { get; }

    /// <summary>The next chunk (one block per source, in row order across calls), or null at the end.</summary>
    /// <exception cref="RowSourceException">A source's read failed.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled or stopped.</exception>
    public RowBlock[]? Take()
    {
        _cancellation.ThrowIfCancellationRequested();
        if (_reader is null)
        {
            return ReadInTurn();
        }

        if (_ready.TryTake(out var set, Timeout.Infinite, _stop.Token))
        {
            return set;
        }

        _reader.GetAwaiter().GetResult();
        _cancellation.ThrowIfCancellationRequested();
        return null;
    }

    /// <summary>Gives a chunk's blocks back for the reader to refill.</summary>
    public void Return(RowBlock[] set) => _free.Add(set);

    /// <summary>Stops the reader and every consumer waiting in <see cref="Take"/> (after a consumer failed).</summary>
    public void Stop() => _stop.Cancel();

    /// <summary>Stops the reader and waits for it, so that no read runs after the caller disposes its sources, and tells the sources the run has ended.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _reader?.Wait();
        }
        catch (AggregateException)
        {
            // A read's failure after the run ended belongs to no one.
        }

        foreach (var source in _sources)
        {
            source.OnRunEnded();
        }

        // Sets a consumer still held (a failed run) are left to the collector.
        foreach (var block in _free.Concat(_ready).SelectMany(set => set))
        {
            block.Release();
        }

        _stop.Dispose();
        _free.Dispose();
        _ready.Dispose();
    }

    /// <summary>The background task's loop: every chunk, a chunk ahead of the consumers.</summary>
    private void Read()
    {
        try
        {
            for (long next = _first; next < _end;)
            {
                var set = _free.Take(_stop.Token);
                next += Fill(set, next);
                _ready.Add(set, _stop.Token);
            }
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>Without read-ahead: the next chunk, read on the calling consumer's thread while the others wait their turn.</summary>
    private RowBlock[]? ReadInTurn()
    {
        lock (_inTurn)
        {
            _stop.Token.ThrowIfCancellationRequested();
            if (_next >= _end)
            {
                return null;
            }

            // Each consumer returns its set before it takes again, so one is free.
            var set = _free.Take(_stop.Token);
            try
            {
                _next += Fill(set, _next);
            }
            catch
            {
                // The others waiting their turn must not read the same rows again.
                _stop.Cancel();
                throw;
            }

            return set;
        }
    }

    /// <summary>Reads rows from <paramref name="next"/> on into <paramref name="set"/>, as many as every source's chunk there holds; returns how many.</summary>
    private int Fill(RowBlock[] set, long next)
    {
        int rows = (int)Math.Min(ChunkRows, _end - next);
        foreach (var source in _sources)
        {
            int wanted = source.ChunkRows(next, rows);
            rows = wanted >= 1 && wanted <= rows ? wanted
                : throw new RowSourceException(source.Name, -1, $"asked for a chunk of {wanted} rows at row {next}; a chunk there holds 1 to {rows}.");
        }

        ReadAll(set, next, rows);
        return rows;
    }

    /// <summary>
    /// Fills one block per source. Two sources (a comparison) read in parallel: a .kld read is a
    /// page-cache copy plus a dequantization on one core, and reading base and test side by side took
    /// a compare of two 2.1 GB .kld files from 1.79-1.86 s to 1.50-1.75 s on 2 cores (a harness).
    /// </summary>
    private void ReadAll(RowBlock[] set, long first, int rows)
    {
        if (_sources.Length == 1)
        {
            ReadOne(set, 0, first, rows);
            return;
        }

        var failures = new Exception?[_sources.Length];
        Parallel.For(0, _sources.Length, i =>
        {
            try
            {
                ReadOne(set, i, first, rows);
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        });

        // The first source's failure wins when both fail, so that the error does not depend on timing.
        if (Array.Find(failures, f => f is not null) is { } failure)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private void ReadOne(RowBlock[] set, int i, long first, int rows)
    {
        set[i].Reset(first, rows);
        try
        {
            _sources[i].Read(set[i]);
            if (rows > 0 && !set[i].Filled)
            {
                throw new RowSourceException(_sources[i].Name, first, "its Read neither wrote the block's Buffer nor handed it rows by UseMemory, so the block held the last chunk's rows.");
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or RowSourceException))
        {
            throw RowSourceException.Reading(_sources[i].Name, first, rows, e);
        }
    }
}
