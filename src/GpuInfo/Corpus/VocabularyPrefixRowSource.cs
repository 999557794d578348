using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GpuInfo.Corpus;

/// <summary>
/// The first <see cref="Vocab"/> classes of each row of another source: two models whose vocabularies
/// differ only in padding (Qwen2.5's 0.5B to 3B models have 151,936 classes, its 7B and larger
/// 152,064, the tokenizer 151,665) compared over the classes both have, each row renormalised over
/// them by the measures. Nothing is dropped silently: a row that puts more than
/// <see cref="MaxDroppedMass"/> of its probability (at the run's temperature) beyond the kept classes,
/// or holds NaN or +inf there, is an error naming the file and row. Targets, byte and word counts,
/// chunking and errors are the inner source's; the inner source stays the caller's to dispose.
/// </summary>
public sealed class VocabularyPrefixRowSource : RowSource
{
    /// <summary>The default most probability a row may put beyond the kept classes.</summary>
    public const double DefaultMaxDroppedMass = 1e-4;

    private readonly RowSource _inner;
    private readonly float _temperature;
    private readonly Dictionary<RowBlock, (RowBlock Full, float[] Scratch)> _innerBlocks = [];

    /// <param name="inner">The source whose rows are cut (not disposed with this one).</param>
    /// <param name="classes">How many classes to keep, 1 to the inner source's vocabulary.</param>
    /// <param name="temperature">The temperature the rows are measured at (the dropped mass is that of softmax(z/T)).</param>
    /// <param name="maxDroppedMass">The most probability a row may put beyond the kept classes, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">Classes outside [1, inner vocabulary], a temperature that is not positive and finite, or a bound outside [0, 1).</exception>
    public VocabularyPrefixRowSource(RowSource inner, int classes, float temperature = 1f, double maxDroppedMass = DefaultMaxDroppedMass)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, inner.Vocab);
        if (!(temperature > 0 && float.IsFinite(temperature)))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive and finite.");
        }

        if (!(maxDroppedMass >= 0 && maxDroppedMass < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxDroppedMass), maxDroppedMass, "the bound must lie in [0, 1).");
        }

        _inner = inner;
        Vocab = classes;
        _temperature = temperature;
        MaxDroppedMass = maxDroppedMass;
    }

    /// <summary>The source whose rows are cut.</summary>
    public RowSource Inner => _inner;

    /// <summary>The most probability a row may put beyond the kept classes.</summary>
    public double MaxDroppedMass { get; }

    /// <summary>The most probability any row read so far put beyond the kept classes, or a bound on it above that (see the class remarks): at most <see cref="MaxDroppedMass"/>.</summary>
    public double LargestDroppedMass { get; private set; }

    public override long Rows => _inner.Rows;

    public override int Vocab { get; }

    public override ScalarType Type => _inner.Type;

    /// <summary>The inner source's kind: log-probabilities cut are renormalised as logits are.</summary>
    public override RowValueKind Values => _inner.Values;

    public override bool HasTargets => _inner.HasTargets;

    public override bool HasTargetBytes => _inner.HasTargetBytes;

    public override bool HasTargetWords => _inner.HasTargetWords;

    public override bool ReadAhead => _inner.ReadAhead;

    public override bool IsPipe => _inner.IsPipe;

    public override string Name => _inner.Name;

    public override string TargetsName => _inner.TargetsName;

    /// <summary>The inner source's description with this vocabulary and the classes kept (so that shards cut otherwise do not merge).</summary>
    public override SourceDescription Describe()
    {
        var inner = _inner.Describe();
        var settings = new SortedDictionary<string, string>(inner.Settings.ToDictionary(), StringComparer.Ordinal)
        {
            ["classes_of"] = inner.Vocab.ToString(CultureInfo.InvariantCulture),
            ["max_dropped_mass"] = MaxDroppedMass.ToString("R", CultureInfo.InvariantCulture),
        };
        return inner with { Vocab = Vocab, Settings = settings };
    }

    /// <summary>The inner source's chunks, shortened so that its full rows fit the bytes a chunk of kept classes would take.</summary>
    protected internal override int ChunkRows(long firstRow, int maxRows) => _inner.ChunkRows(firstRow, InnerRows(maxRows));

    private int InnerRows(int rows) => (int)Math.Max(1, (long)rows * Vocab / _inner.Vocab);

    protected internal override (string Name, long Row) Locate(long row, bool target) => _inner.Locate(row, target);

    protected internal override void OnRunEnded()
    {
        lock (_innerBlocks)
        {
            _innerBlocks.Clear();
        }

        _inner.OnRunEnded();
    }

    protected internal override void Read(RowBlock block)
    {
        // Each outer block has an inner one of its own, refilled when it is: a source that hands out
        // memory it holds (a model's logits) frees it when the block that took it is refilled. Its
        // scratch row is kept with it: a row of a large vocabulary is a large-object allocation.
        (RowBlock Full, float[] Scratch) inner;
        lock (_innerBlocks)
        {
            if (!_innerBlocks.TryGetValue(block, out inner))
            {
                inner = (new RowBlock(InnerRows(block.Capacity), _inner.Vocab, Type, HasTargets, HasTargetBytes, hasTargetWords: HasTargetWords), new float[_inner.Vocab]);
                _innerBlocks[block] = inner;
            }
        }

        var (full, row) = inner;

        full.Reset(block.FirstRow, block.Rows);
        _inner.Read(full);
        full.Targets.CopyTo(block.Targets);
        full.TargetBytes.CopyTo(block.TargetBytes);
        full.TargetWords.CopyTo(block.TargetWords);

        int size = Type.Size(), kept = Vocab * size, whole = _inner.Vocab * size;
        var from = full.Bytes;
        var to = block.Buffer;
        double largest = 0;
        for (int r = 0; r < block.Rows; r++)
        {
            var bytes = from.Slice(r * whole, whole);
            bytes[..kept].CopyTo(to.Slice(r * kept, kept));
            double dropped = DroppedMass(bytes, row);
            if (!(dropped <= MaxDroppedMass))
            {
                throw RowSourceException.At(_inner, block.FirstRow + r, false, double.IsNaN(dropped)
                    ? $"holds NaN or +inf beyond the first {Vocab} classes, which are all that is compared."
                    : $"puts {dropped:G3} of its probability (at temperature {_temperature.ToString(CultureInfo.InvariantCulture)}) beyond the first {Vocab} of its {_inner.Vocab} classes, more than the {MaxDroppedMass.ToString(CultureInfo.InvariantCulture)} allowed: those classes are not padding, and comparing without them would change the distribution.");
            }

            largest = Math.Max(largest, dropped);
        }

        lock (_innerBlocks)
        {
            LargestDroppedMass = Math.Max(LargestDroppedMass, largest);
        }
    }

    /// <summary>
    /// The probability softmax(z/T) puts beyond the kept classes, or a bound on it: n·e^((tail max −
    /// max)/T) for n classes beyond (the row's own maximum adds 1 to the normaliser) where that bound
    /// already clears the row, so that most rows cost two maxima and no exponential. NaN where the
    /// classes beyond hold NaN or +inf; 0 for a row whose kept classes hold NaN or +inf or that is all
    /// -inf (the measures refuse those rows, naming them).
    /// </summary>
    private double DroppedMass(ReadOnlySpan<byte> bytes, float[] scratch)
    {
        if (Vocab == _inner.Vocab)
        {
            return 0;
        }

        ReadOnlySpan<float> z;
        switch (Type)
        {
            case ScalarType.Float32:
                z = MemoryMarshal.Cast<byte, float>(bytes);
                break;
            case ScalarType.Float16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), scratch);
                z = scratch;
                break;
            default:
                var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < bits.Length; i++)
                {
                    scratch[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                }

                z = scratch;
                break;
        }

        var tail = z[Vocab..];
        float tailMax = TensorPrimitives.Max(tail);
        if (float.IsNaN(tailMax) || float.IsPositiveInfinity(tailMax))
        {
            return double.NaN;
        }

        float max = Math.Max(TensorPrimitives.Max(z[..Vocab]), tailMax);
        if (!float.IsFinite(max) || float.IsNegativeInfinity(tailMax))
        {
            return 0; // NaN or +inf among the kept classes, a row of -inf, or nothing beyond but -inf
        }

        double bound = tail.Length * Math.Exp(((double)tailMax - max) / _temperature);
        if (bound <= MaxDroppedMass)
        {
            return bound;
        }

        var e = scratch.AsSpan();
        TensorPrimitives.Subtract(z, max, e);
        TensorPrimitives.Divide(e, _temperature, e);
        TensorPrimitives.Exp(e, e);
        double kept = TensorPrimitives.Sum<float>(e[..Vocab]), beyond = TensorPrimitives.Sum<float>(e[Vocab..]);
        return beyond / (kept + beyond);
    }
}
