using System.Diagnostics;
using System.Text;
using GpuInfo.Cli;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// Outputs that are not plain files: a partial written atomically (by a rename over the path) put a
/// regular file where a named pipe, a device or a symbolic link stood (`--partial /dev/stdout` as root
/// replaced the link); a full disk under --per-token or standard output was an internal error.
/// </summary>
public sealed class OutputDestinationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A named pipe made by mkfifo in the test's folder; the test is skipped where it cannot be made (not Linux, no mkfifo).</summary>
    private string NamedPipe(string name)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "named pipes by mkfifo are tested on Linux");
        string fifo = _dir.File(name);
        try
        {
            using var mkfifo = Process.Start("mkfifo", [fifo]);
            mkfifo.WaitForExit();
            Assert.SkipUnless(mkfifo.ExitCode == 0, $"mkfifo could not make a named pipe in {_dir.Path} (exit {mkfifo.ExitCode})");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Skip($"mkfifo is not here: {e.Message}");
        }

        return fifo;
    }

    [Fact]
    public async Task A_partial_written_to_a_named_pipe_goes_through_it_and_leaves_the_pipe()
    {
        string fifo = NamedPipe("partial.fifo");

        Assert.True(FileKind.IsSpecial(fifo));
        var reader = Task.Run(() => File.ReadAllText(fifo));
        // Both sides run as tasks: a writer that opened the pipe twice (a probe, then the write) would wait for a second reader forever.
        var run = Task.Run(() => CliRunner.Run("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift",
            "--partial", fifo, "--device", "cpu", "--json"));
        var (code, stdout, stderr) = await run.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(code == 0, stderr);
        string written = await reader.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Contains("\"gpuinfo_partial\"", written, StringComparison.Ordinal);
        Assert.True(FileKind.IsSpecial(fifo), "the named pipe was replaced by a regular file");
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(_dir.Path, ".*")));
        Assert.Contains("\"tokens\"", stdout, StringComparison.Ordinal);
    }

    /// <summary>A tokenized corpus's header is written last, at its start: to a named pipe it is a one-line usage error, and the pipe is left.</summary>
    [Fact]
    public void A_tokenized_corpus_to_a_named_pipe_is_refused()
    {
        string fifo = NamedPipe("corpus.safetensors");

        CliRunner.Fails(ExitCode.Usage, [$"{fifo}: cannot write: {fifo} is a pipe or device, not a file"],
            "tokenize", "--tokenizer", "gpt2", "--text", GpuInfo.Tests.Models.ModelFiles.SampleText, "--out", fifo);
        Assert.True(FileKind.IsSpecial(fifo));
    }

    /// <summary>
    /// An output that is also an input is refused before anything is opened: --per-token over its own
    /// logits (or base, or targets) emptied them before they were read, convert's --out replaced its
    /// --logits, and a link to an input is the input.
    /// </summary>
    [Fact]
    public void An_output_that_is_an_input_is_refused_and_the_input_left_whole()
    {
        string logits = _dir.File("logits.npy"), targets = _dir.File("targets.npy"), link = _dir.File("link.npy");
        File.Copy(CliRunner.Golden("base.npy"), logits);
        File.Copy(CliRunner.Golden("targets.npy"), targets);
        File.CreateSymbolicLink(link, logits);
        byte[] before = File.ReadAllBytes(logits);
        CliRunner.Fails(ExitCode.Usage, ["logits.npy", "both read (--logits) and written (--per-token)"], "eval", "--logits", logits, "--targets", targets, "--shift", "--per-token", logits, "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["targets.npy", "both read (--targets) and written (--per-token)"], "eval", "--logits", logits, "--targets", targets, "--shift", "--per-token", targets, "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["link.npy", "--base"], "compare", "--base", logits, "--test", logits, "--per-token", link, "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["logits.npy", "written (--out)"], "convert", "--logits", logits, "--tokens", targets, "--out", logits);
        Assert.Equal(before, File.ReadAllBytes(logits));
        Assert.Equal(File.ReadAllBytes(CliRunner.Golden("targets.npy")), File.ReadAllBytes(targets));
    }

    /// <summary>A run that fails halfway leaves no per-token file: its rows were never all written (the file takes its path only when the run completes).</summary>
    [Fact]
    public void A_failed_run_leaves_no_per_token_file()
    {
        string targets = _dir.File("targets.npy"), perToken = _dir.File("nll.npy");
        byte[] bytes = File.ReadAllBytes(CliRunner.Golden("targets.npy"));
        BitConverter.GetBytes(5000L).CopyTo(bytes, bytes.Length - 8); // the last row's target, beyond the 1009 classes
        File.WriteAllBytes(targets, bytes);
        CliRunner.Fails(ExitCode.BadData, ["5000"], "eval", "--logits", CliRunner.Golden("base.npy"), "--targets", targets, "--per-token", perToken, "--device", "cpu");
        Assert.Equal([targets], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void A_partial_written_through_a_symbolic_link_replaces_the_file_it_names_and_keeps_the_link()
    {
        string target = _dir.File("real.json"), link = _dir.File("link.json");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);
        CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--partial", link, "--device", "cpu");
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Contains("\"gpuinfo_partial\"", File.ReadAllText(target), StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFileSystemEntries(_dir.Path).Length);
    }

    [Fact]
    public void A_regular_file_is_not_special_and_a_missing_one_is_not_either()
    {
        string file = _dir.File("plain.txt");
        File.WriteAllText(file, "x");
        Assert.False(FileKind.IsSpecial(file));
        Assert.False(FileKind.IsSpecial(_dir.Path));
        Assert.False(FileKind.IsSpecial(_dir.File("missing")));
    }

    [Fact]
    public void Per_token_values_into_a_full_device_are_a_usage_error_naming_it()
    {
        Assert.SkipUnless(FileKind.IsSpecial("/dev/full"), "/dev/full (a device whose writes fail with ENOSPC) is not here");
        CliRunner.Fails(ExitCode.Usage, ["/dev/full", "cannot write"],
            "eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--per-token", "/dev/full", "--device", "cpu");
        Assert.True(FileKind.IsSpecial("/dev/full"));
    }

    [Fact]
    public void Standard_output_that_cannot_be_written_is_a_usage_error_naming_it()
    {
        using var stdout = new StandardOutput(new FailingWriter());
        var stderr = new StringWriter();
        int code = Program.Run(["mi", "--joint", Npy()], stdout, stderr);
        Assert.Equal(ExitCode.Usage, code);
        Assert.Equal("gpuinfo: standard output: cannot write: No space left on device", stderr.ToString().TrimEnd());
    }

    /// <summary>A closed standard output (>&amp;-) comes as UnauthorizedAccessException (EBADF), which was an internal error (exit 1).</summary>
    [Fact]
    public void A_closed_standard_output_is_a_usage_error_naming_it()
    {
        using var stdout = new StandardOutput(new FailingWriter(new UnauthorizedAccessException("Access to the path is denied.")));
        var stderr = new StringWriter();
        Assert.Equal(ExitCode.Usage, Program.Run(["mi", "--joint", Npy()], stdout, stderr));
        Assert.Equal("gpuinfo: standard output: cannot write: Access to the path is denied.", stderr.ToString().TrimEnd());
    }

    /// <summary>
    /// A pipe whose reader has gone (a consumer that crashed, <c>| head</c>): the report was dropped and the run
    /// exited 0, since .NET's console ignores EPIPE; gpuinfo writes descriptor 1 itself and says so (exit 2).
    /// The process runs under bash with a reader that closes its end at once, so the first write fails.
    /// </summary>
    [Fact]
    public void A_pipe_whose_reader_is_gone_is_a_usage_error_naming_standard_output()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "a pipe with no reader is made with bash on Linux");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string cli = Path.Combine(AppContext.BaseDirectory, "GpuInfo.Cli.dll");
        string script = $$"""
            "{{dotnet}}" "{{cli}}" mi --joint "{{Npy()}}" --json 2> "{{_dir.File("stderr.txt")}}" | (exec 0<&-; sleep 1)
            echo "${PIPESTATUS[0]}" > "{{_dir.File("code.txt")}}"
            """;
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(start)!;
        Assert.True(bash.WaitForExit(120_000), "bash did not finish");
        Assert.Equal($"{ExitCode.Usage}", File.ReadAllText(_dir.File("code.txt")).Trim());
        Assert.Equal("gpuinfo: standard output: cannot write: Broken pipe", File.ReadAllText(_dir.File("stderr.txt")).Trim());
    }

    private string Npy()
    {
        string path = _dir.File("joint.npy");
        NpyFormat.Write(path, new[] { 0.25, 0.25, 0.5, 0.0 }.AsSpan(), [2, 2]);
        return path;
    }

    private sealed class FailingWriter(Exception? failure = null) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => throw failure ?? new IOException("No space left on device");
    }
}
