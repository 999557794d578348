namespace GpuInfo;

/// <summary>
/// Input data that cannot be scored: a row with NaN or +inf logits, a row of all -inf, a target
/// outside the vocabulary. The message names the row; <see cref="Row"/> holds it.
/// </summary>
public sealed class InvalidInputException : ArgumentException
{
    public InvalidInputException(string paramName, long row, string problem)
        : base($"row {row}: {problem}", paramName)
    {
        Row = row;
        Problem = problem;
    }

    public InvalidInputException()
    {
    }

    public InvalidInputException(string message)
        : base(message)
    {
    }

    public InvalidInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long Row { get; } = -1;

    /// <summary>The problem without the row prefix.</summary>
    public string Problem { get; } = string.Empty;
}
