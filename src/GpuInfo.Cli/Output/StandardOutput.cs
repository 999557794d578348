using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Standard output whose write failures (a full disk, a closed terminal, a pipe whose reader is gone) are
/// a one-line usage error naming it, like any other output that cannot be written, rather than an
/// internal error or a success: a report cut short must not pass for one.
/// </summary>
internal sealed class StandardOutput(TextWriter inner) : TextWriter
{
    /// <summary>
    /// The process's standard output: on Unix its file descriptor 1 written directly, since .NET's console
    /// drops EPIPE (a pipe whose reader exited took the report and the run exited 0); elsewhere, or where
    /// descriptor 1 cannot be opened, <see cref="Console.Out"/>.
    /// </summary>
    public static TextWriter Open()
    {
        if (OperatingSystem.IsWindows())
        {
            return Console.Out;
        }

        try
        {
            var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 1);
            return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Console.Out;
        }
    }

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Checked(() => inner.Write(value));

    public override void Write(char[] buffer, int index, int count) => Checked(() => inner.Write(buffer, index, count));

    public override void Write(string? value) => Checked(() => inner.Write(value));

    public override void WriteLine(string? value) => Checked(() => inner.WriteLine(value));

    public override void Flush() => Checked(inner.Flush);

    private static void Checked(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A closed standard output (>&-) comes as UnauthorizedAccessException: .NET's word for EBADF.
            throw CliException.Usage($"standard output: cannot write: {e.Message}");
        }
    }
}
