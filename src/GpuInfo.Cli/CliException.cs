namespace GpuInfo.Cli;

/// <summary>A user mistake reported as one line and an exit code, never a stack trace.</summary>
public sealed class CliException : Exception
{
    public CliException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int ExitCode { get; } = Cli.ExitCode.Internal;

    public static CliException Usage(string message) => new(Cli.ExitCode.Usage, message);

    public static CliException BadData(string message) => new(Cli.ExitCode.BadData, message);
}
