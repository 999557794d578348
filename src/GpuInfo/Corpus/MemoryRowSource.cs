namespace GpuInfo.Corpus;

/// <summary>
/// Rows a caller holds in memory (float32, fp16 or bf16, row-major <c>[rows, vocab]</c>) with optional
/// int64 targets. Chunks are handed to the engine in place, without a copy; the caller keeps the
/// memory unchanged for the run.
/// </summary>
public sealed class MemoryRowSource : RowSource
{
    private readonly ReadOnlyMemory<float> _float32;
    private readonly ReadOnlyMemory<Half> _float16;
    private readonly ReadOnlyMemory<ushort> _bfloat16;
    private readonly ReadOnlyMemory<long> _targets;

    private MemoryRowSource(int length, int vocab, ScalarType type, ReadOnlyMemory<long>? targets, string name, RowValueKind values)
    {
        Guard.Vocab(vocab);
        ArgumentNullException.ThrowIfNull(name);
        if (!Enum.IsDefined(values))
        {
            throw new ArgumentOutOfRangeException(nameof(values), values, "not a RowValueKind.");
        }

        if (length % vocab != 0)
        {
            throw new ArgumentException($"The rows hold {length} values, which is not a whole number of rows of vocab {vocab}.", "rows");
        }

        Rows = length / vocab;
        if (targets is { } t && t.Length != Rows)
        {
            throw new ArgumentException($"expected {Rows} targets (one per row), got {t.Length}.", nameof(targets));
        }

        _targets = targets ?? default;
        Vocab = vocab;
        Type = type;
        HasTargets = targets.HasValue;
        Name = name;
        Values = values;
    }

    private MemoryRowSource(ReadOnlyMemory<float> rows, int vocab, ReadOnlyMemory<long>? targets, string name, RowValueKind values)
        : this(rows.Length, vocab, ScalarType.Float32, targets, name, values) => _float32 = rows;

    private MemoryRowSource(ReadOnlyMemory<Half> rows, int vocab, ReadOnlyMemory<long>? targets, string name, RowValueKind values)
        : this(rows.Length, vocab, ScalarType.Float16, targets, name, values) => _float16 = rows;

    private MemoryRowSource(ReadOnlyMemory<ushort> rows, int vocab, ReadOnlyMemory<long>? targets, string name, RowValueKind values)
        : this(rows.Length, vocab, ScalarType.BFloat16, targets, name, values) => _bfloat16 = rows;

    public override long Rows { get; }

    public override int Vocab { get; }

    public override ScalarType Type { get; }

    public override RowValueKind Values { get; }

    public override bool HasTargets { get; }

    public override string Name { get; }

    /// <param name="rows">Row-major values, rows × <paramref name="vocab"/>.</param>
    /// <param name="targets">One target per row (ignore index or <see cref="RowSource.NoTarget"/> for unscored rows); null for none.</param>
    /// <param name="name">What error messages call these rows.</param>
    public static MemoryRowSource Float32(ReadOnlyMemory<float> rows, int vocab, ReadOnlyMemory<long>? targets = null,
        string name = "memory", RowValueKind values = RowValueKind.Logits) => new(rows, vocab, targets, name, values);

    public static MemoryRowSource Float16(ReadOnlyMemory<Half> rows, int vocab, ReadOnlyMemory<long>? targets = null,
        string name = "memory", RowValueKind values = RowValueKind.Logits) => new(rows, vocab, targets, name, values);

    /// <summary>bfloat16 rows given as their 16-bit payloads.</summary>
    public static MemoryRowSource BFloat16(ReadOnlyMemory<ushort> rows, int vocab, ReadOnlyMemory<long>? targets = null,
        string name = "memory", RowValueKind values = RowValueKind.Logits) => new(rows, vocab, targets, name, values);

    public override SourceDescription Describe() =>
        new("memory", Rows, Vocab, Type, Values, [], new SortedDictionary<string, string>(StringComparer.Ordinal) { ["name"] = Name });

    protected internal override void Read(RowBlock block)
    {
        int start = checked((int)(block.FirstRow * Vocab)), length = checked(block.Rows * Vocab);
        switch (Type)
        {
            case ScalarType.Float32:
                block.UseMemory(_float32.Slice(start, length));
                break;
            case ScalarType.Float16:
                block.UseMemory(_float16.Slice(start, length));
                break;
            default:
                block.UseBFloat16Memory(_bfloat16.Slice(start, length));
                break;
        }

        if (HasTargets)
        {
            _targets.Span.Slice((int)block.FirstRow, block.Rows).CopyTo(block.Targets);
        }
    }
}
