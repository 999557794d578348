using System.Text;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Standard output whose write failures (a full disk, a closed terminal) are a one-line usage error
/// naming it, like any other output that cannot be written, rather than an internal error: a report
/// cut short must not pass for one.
/// </summary>
internal sealed class StandardOutput(TextWriter inner) : TextWriter
{
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
