namespace GpuInfo.Corpus;

/// <summary>
/// A corpus run could not use a source's data: a row the engine refused (NaN, +inf, all -inf, a
/// target out of range), a read that failed, or sources that do not fit together. The message names
/// the source (a file path for files) and, where there is one, the global row.
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

    /// <summary>The source's name (<see cref="RowSource.Name"/> or <see cref="RowSource.TargetsName"/>).</summary>
    public new string Source { get; }

    /// <summary>The global row, or -1 when the problem is not one row's.</summary>
    public long Row { get; } = -1;

    public string Problem { get; }
}
