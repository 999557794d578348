namespace GpuInfo.Formats;

/// <summary>A file that cannot be read as what it claims to be; the message names the file and the problem.</summary>
public sealed class InvalidFileException : Exception
{
    public InvalidFileException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    public InvalidFileException()
    {
        Path = Problem = string.Empty;
    }

    public InvalidFileException(string message)
        : base(message)
    {
        Path = Problem = string.Empty;
    }

    public InvalidFileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = Problem = string.Empty;
    }

    public string Path { get; }

    public string Problem { get; }
}
