using System.Globalization;

namespace GpuInfo.Corpus;

/// <summary>
/// Several sources read as one corpus, their rows one after another in the order given: a corpus
/// saved as one file per batch (<c>logits_000.npy</c>, <c>logits_001.npy</c>, ...) runs, shards,
/// writes partials and merges as one file would. The parts must agree in vocabulary, element type,
/// value kind and which per-row counts they carry. Chunks end at each part's last row, so each read
/// goes to one part (a part's own chunking, such as a model's windows, is kept); errors name the
/// part's file and the row within it.
/// </summary>
public sealed class ConcatenatedRowSource : RowSource
{
    private readonly RowSource[] _parts;
    private readonly long[] _starts;

    private ConcatenatedRowSource(RowSource[] parts)
    {
        _parts = parts;
        _starts = new long[parts.Length + 1];
        for (int i = 0; i < parts.Length; i++)
        {
            _starts[i + 1] = _starts[i] + parts[i].Rows;
        }
    }

    /// <summary>The parts, in order; the source owns them and disposes them with itself.</summary>
    public IReadOnlyList<RowSource> Parts => _parts;

    public override long Rows => _starts[^1];

    public override int Vocab => _parts[0].Vocab;

    public override ScalarType Type => _parts[0].Type;

    public override RowValueKind Values => _parts[0].Values;

    public override bool HasTargets => _parts[0].HasTargets;

    public override bool HasTargetBytes => _parts[0].HasTargetBytes;

    public override bool HasTargetWords => _parts[0].HasTargetWords;

    public override bool ReadAhead => _parts.All(p => p.ReadAhead);

    /// <summary>The first part's name and how many follow it, e.g. "logits_000.npy (+9 more parts)".</summary>
    public override string Name => Named(p => p.Name);

    public override string TargetsName => Named(p => p.TargetsName);

    /// <summary>
    /// Takes <paramref name="parts"/> (two or more; one is returned as it is) as one source, owning
    /// them from then on: they are disposed with it, or at once when they do not fit together.
    /// </summary>
    /// <exception cref="ArgumentException">No parts, or a null one.</exception>
    /// <exception cref="RowSourceException">A pipe among several parts, or parts that differ in vocabulary, element type, value kind, targets, byte or word counts (naming the first part that differs).</exception>
    public static RowSource Of(IReadOnlyList<RowSource> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        try
        {
            if (parts.Count == 0)
            {
                throw new ArgumentException("a concatenation needs at least one source.", nameof(parts));
            }

            if (parts.Any(p => p is null))
            {
                throw new ArgumentException("a part is null.", nameof(parts));
            }

            if (parts.Count == 1)
            {
                return parts[0];
            }

            var first = parts[0];
            foreach (var part in parts)
            {
                string? problem = part.IsPipe ? "a pipe, which cannot be one of several parts (it can be read only once, in order, and waits for its writer)"
                    : part.Vocab != first.Vocab ? $"vocabulary {part.Vocab}, the first part ({first.Name}) {first.Vocab}"
                    : part.Type != first.Type ? $"{part.Type} rows, the first part ({first.Name}) {first.Type}: convert them to one type"
                    : part.Values != first.Values ? $"{part.Values}, the first part ({first.Name}) {first.Values}"
                    : part.HasTargets != first.HasTargets ? $"{(part.HasTargets ? "with" : "without")} targets, the first part ({first.Name}) {(first.HasTargets ? "has" : "has none")}"
                    : part.HasTargetBytes != first.HasTargetBytes ? $"{(part.HasTargetBytes ? "with" : "without")} its targets' byte counts, unlike the first part ({first.Name})"
                    : part.HasTargetWords != first.HasTargetWords ? $"{(part.HasTargetWords ? "with" : "without")} its targets' word counts, unlike the first part ({first.Name})"
                    : null;
                if (problem is not null)
                {
                    throw new RowSourceException(part.Name, -1, problem + ".");
                }
            }

            return new ConcatenatedRowSource([.. parts]);
        }
        catch
        {
            foreach (var part in parts)
            {
                part?.Dispose();
            }

            throw;
        }
    }

    /// <summary>The parts' files in order (each keeps its role), and per part its rows and settings, prefixed <c>part[i].</c>.</summary>
    public override SourceDescription Describe()
    {
        var descriptions = _parts.Select(p => p.Describe()).ToArray();
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["parts"] = _parts.Length.ToString(CultureInfo.InvariantCulture),
        };
        for (int i = 0; i < descriptions.Length; i++)
        {
            settings[$"part[{i}].kind"] = descriptions[i].Kind;
            settings[$"part[{i}].rows"] = descriptions[i].Rows.ToString(CultureInfo.InvariantCulture);
            foreach (var (key, value) in descriptions[i].Settings)
            {
                settings[$"part[{i}].{key}"] = value;
            }
        }

        return new SourceDescription("concatenation", Rows, Vocab, Type, Values, [.. descriptions.SelectMany(d => d.Files)], settings);
    }

    protected internal override (string Name, long Row) Locate(long row, bool target)
    {
        int i = PartOf(row);
        return _parts[i].Locate(row - _starts[i], target);
    }

    protected internal override int ChunkRows(long firstRow, int maxRows)
    {
        int i = PartOf(firstRow);
        long local = firstRow - _starts[i];
        return _parts[i].ChunkRows(local, (int)Math.Min(maxRows, _parts[i].Rows - local));
    }

    protected internal override void Read(RowBlock block)
    {
        long global = block.FirstRow;
        int i = PartOf(global);
        if (global + block.Rows > _starts[i + 1])
        {
            throw new InvalidOperationException($"rows [{global}, {global + block.Rows}) cross the end of part {i} at row {_starts[i + 1]}; chunks end at each part's end.");
        }

        block.Rebase(global - _starts[i]);
        try
        {
            _parts[i].Read(block);
        }
        catch (Exception e) when (e is not (OperationCanceledException or RowSourceException))
        {
            throw RowSourceException.Reading(_parts[i].Name, global - _starts[i], block.Rows, e);
        }
        finally
        {
            block.Rebase(global);
        }
    }

    protected internal override void OnRunEnded()
    {
        foreach (var part in _parts)
        {
            part.OnRunEnded();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var part in _parts)
            {
                part.Dispose();
            }
        }
    }

    private string Named(Func<RowSource, string> name) =>
        $"{name(_parts[0])} (+{_parts.Length - 1} more {(_parts.Length == 2 ? "part" : "parts")})";

    private int PartOf(long row)
    {
        if (row < 0 || row >= Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"not a row of the {Rows} rows.");
        }

        int i = Array.BinarySearch(_starts, row);
        i = i >= 0 ? i : ~i - 1;
        while (_parts[i].Rows == 0)
        {
            i++; // an empty part holds no row: the row is the next non-empty part's first
        }

        return i;
    }
}
