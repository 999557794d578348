using System.CommandLine;
using GpuInfo.Cli.Verbs;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>
/// gpuinfo: the command-line contract of DESIGN.md. Exit codes: 0 ok, 1 internal error, 2 usage
/// error, 3 bad input data, 4 device unavailable or out of memory. Errors are one line on stderr.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        using var stdout = new Output.StandardOutput(Output.StandardOutput.Open());
        int code = Run(args, stdout, Console.Error);
        if (code != ExitCode.Ok)
        {
            return code; // its error is on stderr already: one line, not a second for the same closed stdout
        }

        try
        {
            stdout.Flush();
            return code;
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"gpuinfo: {e.Message}");
            return e.ExitCode;
        }
    }

    /// <summary>Runs gpuinfo with the given streams (tests call this directly).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var parse = Commands(stdout, stderr).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine lists an option's allowed values on lines of their own: one line here.
            string errors = string.Join("; ", parse.Errors.Select(e => TypeNamesInWords(string.Join(' ', e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))));
            stderr.WriteLine($"gpuinfo: {errors} (see 'gpuinfo --help')");
            return ExitCode.Usage;
        }

        try
        {
            Output.OutputFile.CheckNotAnInput(parse);
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            var (code, message) = Describe(e);
            stderr.WriteLine($"gpuinfo: {Printable(message)}");
            if (code == ExitCode.Internal && Environment.GetEnvironmentVariable("GPUINFO_DEBUG") == "1")
            {
                stderr.WriteLine(e);
            }

            return code;
        }
    }

    /// <summary>System.CommandLine names the type a value did not parse as by .NET's name ('System.Nullable`1[System.Int64]'): in words.</summary>
    internal static string TypeNamesInWords(string message) => System.Text.RegularExpressions.Regex.Replace(
        message, @"as expected type 'System\.(?:Nullable`1\[System\.)?(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" => "as an integer",
            "Single" or "Double" => "as a number",
            "Boolean" => "as true or false",
            var other => $"as {other}",
        });

    /// <summary>Every verb, with its options (tests walk them).</summary>
    internal static RootCommand Commands(TextWriter stdout, TextWriter stderr) =>
        new RootCommand("gpuinfo: information measures over model outputs (perplexity, KL, JS, entropy, IB, rate-distortion) on CUDA, OpenCL or SIMD CPU.")
        {
            DemoCommand.Create(stdout),
            DevicesCommand.Create(stdout),
            EvalCommand.Create(stdout, stderr),
            CompareCommand.Create(stdout, stderr),
            PerplexityCommand.Create(stdout, stderr),
            CompareModelsCommand.Create(stdout, stderr),
            LoglikelihoodCommand.Create(stdout, stderr),
            CompareSamplesCommand.Create(stdout),
            MergeCommand.Create(stdout),
            ConvertCommand.Create(stdout),
            KernelsCommand.Create(stdout),
            BenchCommand.Create(stdout, stderr),
            IbCommand.Create(stdout, stderr),
            IbCurveCommand.Create(stdout, stderr),
            RdCommand.Create(stdout),
            CapacityCommand.Create(stdout),
            MiCommand.Create(stdout),
            InspectCommand.Create(stdout),
            TokenizeCommand.Create(stdout),
        };

    /// <summary>Maps an exception to its exit code and one-line message.</summary>
    public static (int Code, string Message) Describe(Exception e) => e switch
    {
        CliException c => (c.ExitCode, c.Message),
        InvalidFileException f => (ExitCode.BadData, f.Message),
        InvalidInputException i => (ExitCode.BadData, i.Message),
        Corpus.RowSourceException r => (ExitCode.BadData, r.Message),
        DeviceUnavailableException d => (ExitCode.Device, d.Message),
        OutOfMemoryException => (ExitCode.Device, "out of memory"),
        ILGPU.Runtime.AcceleratorException a => (ExitCode.Device, $"the {a.AcceleratorType.ToString().ToLowerInvariant()} accelerator failed: {a.Message} (--device cpu runs without it)"),
        ILGPU.Runtime.Cuda.CuBlasException b => (ExitCode.Device, $"cuBLAS failed on the cuda accelerator: {b.Message} (--device cpu runs without it)"),
        ArgumentException a => (ExitCode.Usage, OneLine(a)),
        _ => (ExitCode.Internal, $"internal error: {e.GetType().Name}: {e.Message} (set GPUINFO_DEBUG=1 for details)"),
    };

    /// <summary>
    /// The message with control characters escaped (\n, \xNN): it may quote a damaged file's bytes
    /// (a class name from a pickle), and the error is one line on a terminal.
    /// </summary>
    internal static string Printable(string message) =>
        message.Any(char.IsControl)
            ? string.Concat(message.Select(c => !char.IsControl(c) ? c.ToString() : c == '\n' ? "\\n" : $"\\x{(int)c:x2}"))
            : message;

    /// <summary>The library's message without .NET's " (Parameter 'x')" suffix and "Actual value was" line: the message already says what is wrong.</summary>
    private static string OneLine(ArgumentException a)
    {
        string first = a.Message.Split('\n')[0].TrimEnd();
        int suffix = a.ParamName is null ? -1 : first.LastIndexOf($" (Parameter '{a.ParamName}')", StringComparison.Ordinal);
        return suffix > 0 ? first[..suffix] : first;
    }
}
