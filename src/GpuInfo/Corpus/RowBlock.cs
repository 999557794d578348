using System.Runtime.InteropServices;

namespace GpuInfo.Corpus;

/// <summary>
/// One chunk of consecutive rows of a source: their values (in <see cref="Buffer"/>, or in memory
/// the source holds, see <see cref="UseMemory(ReadOnlyMemory{float})"/> and its overloads), their targets and their global row indices.
/// A run owns two blocks per source and reuses them, so a block is valid until its next fill.
/// </summary>
public sealed class RowBlock
{
    private readonly long _rowBytes;
    private readonly long[] _targets;
    private readonly long[] _targetBytes;
    private readonly long[] _targetWords;
    private readonly int _capacity;
    private byte[]? _buffer;
    private ReadOnlyMemory<float> _float32;
    private ReadOnlyMemory<Half> _float16;
    private ReadOnlyMemory<ushort> _bfloat16;
    private bool _external;

    private readonly BlockBuffers? _buffers;

    internal RowBlock(int capacityRows, int vocab, ScalarType type, bool hasTargets, bool hasTargetBytes = false, BlockBuffers? buffers = null, bool hasTargetWords = false)
    {
        _buffers = buffers;
        _targetBytes = hasTargetBytes ? new long[capacityRows] : [];
        _targetWords = hasTargetWords ? new long[capacityRows] : [];
        _capacity = capacityRows;
        Vocab = vocab;
        Type = type;
        _rowBytes = (long)vocab * type.Size();
        _targets = hasTargets ? new long[capacityRows] : [];
    }

    /// <summary>Global index of the block's first row.</summary>
    public long FirstRow { get; private set; }

    public int Rows { get; private set; }

    public int Vocab { get; }

    public ScalarType Type { get; }

    /// <summary>The most rows the block holds.</summary>
    internal int Capacity => _capacity;

    /// <summary>The rows' values as bytes, wherever they are (the block's buffer or memory a source handed out).</summary>
    internal ReadOnlySpan<byte> Bytes => !_external
        ? _buffer.AsSpan(0, checked((int)(Rows * _rowBytes)))
        : Type switch
        {
            ScalarType.Float32 => MemoryMarshal.AsBytes(_float32.Span),
            ScalarType.Float16 => MemoryMarshal.AsBytes(_float16.Span),
            _ => MemoryMarshal.AsBytes(_bfloat16.Span),
        };

    /// <summary>Space for the rows' values, <see cref="Rows"/> × vocab elements of <see cref="Type"/>, for a source to read into.</summary>
    public Span<byte> Buffer
    {
        get
        {
            _external = false;
            Filled = true;
            _buffer ??= _buffers?.Rent(_capacity * _rowBytes) ?? new byte[_capacity * _rowBytes];
            return _buffer.AsSpan(0, checked((int)(Rows * _rowBytes)));
        }
    }

    /// <summary>The rows' targets, <see cref="RowSource.NoTarget"/> where a row has none; empty when the source has no targets.</summary>
    public Span<long> Targets => _targets.AsSpan(0, _targets.Length == 0 ? 0 : Rows);

    /// <summary>The bytes of text each row's target stands for (for bits per byte); empty when the source has none.</summary>
    public Span<long> TargetBytes => _targetBytes.AsSpan(0, _targetBytes.Length == 0 ? 0 : Rows);

    /// <summary>The words of text each row's target begins (for word perplexity); empty when the source has none.</summary>
    public Span<long> TargetWords => _targetWords.AsSpan(0, _targetWords.Length == 0 ? 0 : Rows);

    /// <summary>The rows' values as the engine takes them.</summary>
    public Logits Logits => !_external
        ? Logits.FromBytes(_buffer.AsSpan(0, checked((int)(Rows * _rowBytes))), Vocab, Type)
        : Type switch
        {
            ScalarType.Float32 => Logits.Float32(_float32.Span, Vocab),
            ScalarType.Float16 => Logits.Float16(_float16.Span, Vocab),
            _ => Logits.BFloat16(_bfloat16.Span, Vocab),
        };

    /// <summary>
    /// True when the rows are float32 in the block's own buffer (not memory a source handed out), so
    /// that a consumer may overwrite them in place until it gives the block back.
    /// </summary>
    internal bool OwnsFloat32Rows => !_external && _buffer is not null && Type == ScalarType.Float32;

    /// <summary>The rows in the block's own buffer as float32 values, for a consumer that overwrites them (see <see cref="OwnsFloat32Rows"/>).</summary>
    internal Span<float> OwnFloat32Rows => OwnsFloat32Rows
        ? MemoryMarshal.Cast<byte, float>(_buffer.AsSpan(0, checked((int)(Rows * _rowBytes))))
        : throw new InvalidOperationException("the block's rows are not float32 in its own buffer.");

    /// <summary>Lets a source hand out float32 rows it already holds instead of copying them into <see cref="Buffer"/>.</summary>
    /// <exception cref="ArgumentException">The block is not float32, or the memory is not exactly <see cref="Rows"/> rows.</exception>
    public void UseMemory(ReadOnlyMemory<float> rows) => _float32 = External(rows, ScalarType.Float32);

    /// <summary>As <see cref="UseMemory(ReadOnlyMemory{float})"/>, for fp16 rows.</summary>
    public void UseMemory(ReadOnlyMemory<Half> rows) => _float16 = External(rows, ScalarType.Float16);

    /// <summary>As <see cref="UseMemory(ReadOnlyMemory{float})"/>, for bf16 rows (16-bit payloads).</summary>
    public void UseBFloat16Memory(ReadOnlyMemory<ushort> rows) => _bfloat16 = External(rows, ScalarType.BFloat16);

    /// <summary>Gives the buffer back to the pool it came from, once nothing reads the block any more.</summary>
    internal void Release()
    {
        if (_buffer is { } buffer && _buffers is not null)
        {
            _buffer = null;
            _buffers.Return(buffer);
        }
    }

    internal void Reset(long firstRow, int rows)
    {
        FirstRow = firstRow;
        Rows = rows;
        _external = false;
        Filled = false;
    }

    /// <summary>
    /// Whether the source has filled the block since <see cref="Reset"/>: taken <see cref="Buffer"/> or
    /// handed rows to <see cref="UseMemory(ReadOnlyMemory{float})"/>. A block is reused chunk after chunk,
    /// so one the source left alone would hold the last chunk's rows.
    /// </summary>
    internal bool Filled { get; private set; }

    /// <summary>Renumbers the block's rows without touching what it holds (a concatenation hands a part its own row numbers).</summary>
    internal void Rebase(long firstRow) => FirstRow = firstRow;

    private ReadOnlyMemory<T> External<T>(ReadOnlyMemory<T> rows, ScalarType type)
    {
        if (type != Type)
        {
            throw new ArgumentException($"this block holds {Type} rows, not {type}.", nameof(rows));
        }

        if (rows.Length != (long)Rows * Vocab)
        {
            throw new ArgumentException($"expected {Rows} rows of {Vocab} values, got {rows.Length} values.", nameof(rows));
        }

        _external = true;
        Filled = true;
        return rows;
    }
}
