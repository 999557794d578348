using GpuInfo.Formats;

namespace GpuInfo.Cli.Streaming;

/// <summary>
/// Which target scores which logits row: row i scores target i, or with --shift, position t of a
/// sequence scores the target at t+1 (the last position of each sequence scores nothing).
/// </summary>
internal sealed class TargetPlan
{
    /// <summary>Marks a row with no target under --shift (the last position of a sequence).</summary>
    public const long Dropped = long.MinValue;

    private readonly TargetsFile _file;
    private readonly long _sequenceLength;
    private readonly bool _shift;

    public TargetPlan(TargetsFile file, LogitsFile logits, bool shift)
    {
        _file = file;
        _shift = shift;
        _sequenceLength = logits.SequenceLength;
        if (file.Count != logits.Rows)
        {
            throw CliException.BadData($"{file.Path}: holds {file.Count} targets but {logits.Path} has {logits.Rows} rows of logits ({logits.Info.ShapeText}); they must match one to one.");
        }

        if (shift && logits.SequenceLength < 2)
        {
            throw CliException.Usage($"--shift needs sequences of at least 2 positions; {logits.Path} has {logits.Info.ShapeText}.");
        }
    }

    public string Path => _file.Path;

    /// <summary>Targets of rows [first, first + destination.Length); <see cref="Dropped"/> where --shift leaves none.</summary>
    public void Read(long first, Span<long> destination)
    {
        if (!_shift)
        {
            _file.Read(first, destination);
            return;
        }

        long available = Math.Min(destination.Length, _file.Count - (first + 1));
        _file.Read(first + 1, destination[..(int)available]);
        for (int i = 0; i < destination.Length; i++)
        {
            if ((first + i) % _sequenceLength == _sequenceLength - 1)
            {
                destination[i] = Dropped;
            }
        }
    }
}
