namespace GpuInfo.Corpus;

/// <summary>
/// Where rows come from: logits or log-probabilities, with their targets, in chunks. A source knows
/// its row count and vocabulary, names itself for error messages, and describes itself for
/// partials. Implement <see cref="Read"/> to add an input (a file format, a model runtime); every
/// corpus run, shard, partial and merge then works for it unchanged.
/// </summary>
/// <remarks>
/// A run calls <see cref="Read"/> from one thread at a time, one chunk ahead of the compute (unless
/// <see cref="ReadAhead"/> is false), with ascending rows within a run. Exceptions it throws reach
/// the caller as <see cref="RowSourceException"/> naming the source and the rows.
/// </remarks>
public abstract class RowSource : IDisposable
{
    /// <summary>The target of a row that has none (the last position of a sequence under shift): it is not scored.</summary>
    public const long NoTarget = long.MinValue;

    public abstract long Rows { get; }

    public abstract int Vocab { get; }

    /// <summary>The element type rows are delivered in.</summary>
    public abstract ScalarType Type { get; }

    public virtual RowValueKind Values => RowValueKind.Logits;

    /// <summary>True when <see cref="RowBlock.Targets"/> are filled.</summary>
    public abstract bool HasTargets { get; }

    /// <summary>True when <see cref="RowBlock.TargetBytes"/> are filled: the bytes of text each row's target token stands for.</summary>
    public virtual bool HasTargetBytes => false;

    /// <summary>True when <see cref="RowBlock.TargetWords"/> are filled: the words of text each row's target token begins (for word perplexity).</summary>
    public virtual bool HasTargetWords => false;

    /// <summary>What error messages call the row values (e.g. the logits file's path).</summary>
    public abstract string Name { get; }

    /// <summary>What error messages call the targets.</summary>
    public virtual string TargetsName => Name;

    public long RowBytes => (long)Vocab * Type.Size();

    /// <summary>
    /// True (the default) when a run may read the next chunk on a thread of its own while the engine
    /// measures the last one. A source whose reading is heavy work on the same CPU cores as the
    /// measures (a model run by the CPU) says false: a run then reads each chunk on the thread that
    /// measures it, so that reading and measuring take all the cores in turn instead of fighting
    /// over them, and holds one chunk per engine instead of one more.
    /// </summary>
    public virtual bool ReadAhead => true;

    /// <summary>
    /// True when the rows come through a pipe: they can be read only once, from the first row on, in
    /// order, so the source cannot be split into shards, and its fingerprint holds no sample of its
    /// values (a partial made from it cannot tell it from another stream of the same shape).
    /// </summary>
    public virtual bool IsPipe => false;

    public abstract SourceDescription Describe();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// How many rows, from <paramref name="firstRow"/> on, the next chunk should hold: from 1 to
    /// <paramref name="maxRows"/> (the run's chunk size, already cut at the shard's end). The default
    /// takes them all; a source whose rows come in groups that it holds in memory of its own (a
    /// model's windows) ends chunks at a group's edge, so that it can hand each chunk over with
    /// <see cref="RowBlock.UseMemory(ReadOnlyMemory{float})"/> instead of copying it.
    /// </summary>
    protected internal virtual int ChunkRows(long firstRow, int maxRows) => maxRows;

    /// <summary>
    /// Told when a run has stopped reading and no longer uses any block it filled (also after a
    /// failure or cancellation): memory the source handed out with <see cref="RowBlock.UseMemory(ReadOnlyMemory{float})"/>
    /// is its own again.
    /// </summary>
    protected internal virtual void OnRunEnded()
    {
    }

    /// <summary>
    /// Where global row <paramref name="row"/> lies, for error messages: the name of what holds its
    /// values (or, with <paramref name="target"/>, its target) and its row there. A source of one file
    /// returns <see cref="Name"/> (or <see cref="TargetsName"/>) and the row itself; a concatenation
    /// names the part's file and the row within it.
    /// </summary>
    protected internal virtual (string Name, long Row) Locate(long row, bool target) => (target ? TargetsName : Name, row);

    /// <summary>Fills <paramref name="block"/> with rows [block.FirstRow, block.FirstRow + block.Rows) and, when <see cref="HasTargets"/>, their targets.</summary>
    protected internal abstract void Read(RowBlock block);

    protected virtual void Dispose(bool disposing)
    {
    }
}
