namespace GpuInfo.Corpus;

/// <summary>
/// A corpus run could not use a source's data: a row the engine refused (NaN, +inf, all -inf, a
/// target out of range), a read that failed, or sources that do not fit together. The message names
/// the source (a file path for files) and, where there is one, the row (in the file that holds it).
/// </summary>
public sealed class RowSourceException : Exception
{
    public RowSourceException(string source, long row, string problem, Exception? innerException = null)
        : base(row >= 0 ? $"{source}: row {row}: {problem}" : $"{source}: {problem}", innerException)
    {
        Source = source;
        Row = row;
        Problem = problem;
    }

    public RowSourceException()
    {
        Source = Problem = string.Empty;
    }

    public RowSourceException(string message)
        : base(message)
    {
        Source = Problem = string.Empty;
    }

    public RowSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = Problem = string.Empty;
    }

    /// <summary>A problem with <paramref name="source"/>'s global row <paramref name="row"/>, named where the source says it lies (<see cref="RowSource.Locate"/>).</summary>
    internal static RowSourceException At(RowSource source, long row, bool target, string problem, Exception? innerException = null)
    {
        var (name, local) = source.Locate(row, target);
        return new RowSourceException(name, local, problem, innerException);
    }

    /// <summary>A read of rows [<paramref name="first"/>, first + rows) of <paramref name="name"/> that failed, with the reader's problem (a file error's own text, not its path again).</summary>
    internal static RowSourceException Reading(string name, long first, int rows, Exception e)
    {
        string problem = e is Formats.InvalidFileException f && f.Path == name ? f.Problem : e.Message;
        return new RowSourceException(name, -1, $"reading rows [{first}, {first + rows}): {problem}", e);
    }

    /// <summary>The source's name (<see cref="RowSource.Name"/> or <see cref="RowSource.TargetsName"/>).</summary>
    public new string Source { get; }

    /// <summary>The row (within <see cref="Source"/>), or -1 when the problem is not one row's.</summary>
    public long Row { get; } = -1;

    public string Problem { get; }
}
