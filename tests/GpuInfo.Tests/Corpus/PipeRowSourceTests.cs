using System.Diagnostics;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// Logits streamed as a .npy through a pipe (a stream that cannot seek, or a named pipe): the same
/// results as the file, read in chunks as the bytes arrive; a stream that ends early or goes on is
/// an error naming its rows; what a pipe cannot do (shards, partials, a second pass) is refused.
/// </summary>
public sealed class PipeRowSourceTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private const int Rows = 45, Vocab = 301;
    private readonly InfoEngine _engine = fixture.Engine;

    [Theory]
    [InlineData("f4")]
    [InlineData("f2")]
    [InlineData("f8")]
    public void A_stream_gives_the_files_results_exactly(string dtype)
    {
        using var dir = new TempDir();
        var data = new TestData();
        string x = dir.File("x.npy"), y = dir.File("y.npy");
        WriteLogits(x, data.Logits(Rows, Vocab), dtype);
        NpyFormat.Write<long>(y, data.Targets(Rows, Vocab).Select(t => (long)t).ToArray(), [Rows]);

        // Chunks of 4 rows, and a stream that hands out 1000 bytes a read: rows and reads never line up.
        var options = new CorpusRunOptions { ChunkBytes = 4L * Vocab * 4 };
        using var file = RowSources.Open(x, y);
        using var pipe = FileRowSource.OpenPipe(new TrickleStream(File.ReadAllBytes(x), 1000), "pipe", y);
        Assert.True(pipe.IsPipe);
        Assert.False(file.IsPipe);
        var expected = CorpusRun.Evaluate(_engine, file, null, options).Evaluation!;
        var actual = CorpusRun.Evaluate(_engine, pipe, null, options).Evaluation!;
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.MeanNll, actual.MeanNll);
        Assert.Equal(expected.MeanEntropy, actual.MeanEntropy);
        Assert.Equal(expected.Top1Accuracy, actual.Top1Accuracy);
        Assert.Equal("pipe", pipe.Describe().Settings["input"]);
    }

    /// <summary>On Linux a pipe GpuInfo reads gets a 1 MiB buffer where the system allows it; anything else is left alone.</summary>
    [Fact]
    public void A_pipe_is_given_a_larger_buffer_where_the_system_allows_it()
    {
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.In);
        int granted = PipeCapacity.TryEnlarge(server.SafePipeHandle);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(-1, granted);
            return;
        }

        long limit = long.Parse(File.ReadAllText("/proc/sys/fs/pipe-max-size").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(limit >= PipeCapacity.Bytes ? PipeCapacity.Bytes : -1, granted);

        using var dir = new TempDir();
        string file = dir.File("plain.bin");
        File.WriteAllBytes(file, new byte[16]);
        using var stream = File.OpenRead(file);
        Assert.Equal(-1, PipeCapacity.TryEnlarge(stream.SafeFileHandle)); // not a pipe: nothing changes
    }

    [Fact]
    public void Two_streams_compare_as_their_files()
    {
        using var dir = new TempDir();
        var data = new TestData();
        string p = dir.File("p.npy"), q = dir.File("q.npy");
        var logits = data.Logits(Rows, Vocab);
        NpyFormat.Write<float>(p, logits, [Rows, Vocab]);
        NpyFormat.Write<float>(q, logits.Select((v, i) => v + (0.1f * MathF.Sin(i))).ToArray(), [Rows, Vocab]);
        var options = new CorpusRunOptions { ChunkBytes = 3L * Vocab * 8 };
        using var fileP = RowSources.Open(p);
        using var fileQ = RowSources.Open(q);
        using var pipeP = FileRowSource.OpenPipe(new TrickleStream(File.ReadAllBytes(p), 777), "p");
        using var pipeQ = FileRowSource.OpenPipe(new TrickleStream(File.ReadAllBytes(q), 4096), "q");
        var expected = CorpusRun.Compare(_engine, fileP, fileQ, 1f, -100, options).Comparison!;
        var actual = CorpusRun.Compare(_engine, pipeP, pipeQ, 1f, -100, options).Comparison!;
        Assert.Equal(expected.MeanKl, actual.MeanKl);
        Assert.Equal(expected.SameTop1Fraction, actual.SameTop1Fraction);
    }

    [Fact]
    public void A_stream_that_ends_early_or_goes_on_is_an_error_naming_its_rows()
    {
        using var dir = new TempDir();
        string x = dir.File("x.npy"), y = Targets(dir);
        NpyFormat.Write<float>(x, new TestData(5).Logits(Rows, Vocab), [Rows, Vocab]);
        var bytes = File.ReadAllBytes(x);
        var options = new CorpusRunOptions { ChunkBytes = 8L * Vocab * 4 };

        // 20.5 rows of data: the chunk of rows [16, 24) finds 4 whole rows and half of one.
        int header = bytes.Length - (Rows * Vocab * 4);
        using var shortPipe = FileRowSource.OpenPipe(new TrickleStream(bytes[..(header + (41 * Vocab * 2))], 512), "short", y);
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, shortPipe, null, options));
        Assert.Contains("the stream ended after 20 of the 45 rows its header announces ([45, 301])", e.Message, StringComparison.Ordinal);

        using var longPipe = FileRowSource.OpenPipe(new TrickleStream([.. bytes, 0], 512), "long", y);
        e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, longPipe, null, options));
        Assert.Contains("the stream goes on after the 45 rows its header announces", e.Message, StringComparison.Ordinal);

        var notNpy = Assert.Throws<InvalidFileException>(() => FileRowSource.OpenPipe(new TrickleStream("hello"u8.ToArray(), 3), "stdin"));
        Assert.Contains("not a .npy file", notNpy.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pipe_is_read_from_its_start_only()
    {
        using var dir = new TempDir();
        string x = dir.File("x.npy"), y = Targets(dir);
        NpyFormat.Write<float>(x, new TestData(6).Logits(Rows, Vocab), [Rows, Vocab]);
        using var pipe = FileRowSource.OpenPipe(new TrickleStream(File.ReadAllBytes(x), 4096), "pipe", y);
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, pipe, null, new CorpusRunOptions { Shard = new Shard(1, 2) }));
        Assert.Contains("its rows are read once, in order (row 0 is next, not ", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FileRowSource.OpenPipe(new TrickleStream(File.ReadAllBytes(x), 4096), "pipe", options: new FileRowSourceOptions { LogitsTensor = "logits" }));
    }

    /// <summary>A named pipe through the CLI, as a model's process would write it: eval and compare as on the files; what a pipe cannot do is a usage error.</summary>
    [Fact]
    public void A_named_pipe_through_the_cli()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "named pipes here are POSIX FIFOs (mkfifo)");
        using var dir = new TempDir();
        var data = new TestData();
        string x = dir.File("x.npy"), q = dir.File("q.npy"), y = dir.File("y.npy");
        var logits = data.Logits(Rows, Vocab);
        NpyFormat.Write<float>(x, logits, [Rows, Vocab]);
        NpyFormat.Write<float>(q, logits.Select(v => v * 0.9f).ToArray(), [Rows, Vocab]);
        NpyFormat.Write<long>(y, data.Targets(Rows, Vocab).Select(t => (long)t).ToArray(), [Rows]);
        string fifoP = Fifo(dir, "p"), fifoQ = Fifo(dir, "q");

        string[] Report(string[] args) => [.. CliRunner.Json([.. args, "--device", "cpu"]).Where(kv => kv.Key is not ("seconds" or "device")).Select(kv => $"{kv.Key}={kv.Value?.ToJsonString()}")];

        var writer = Feed(fifoP, x);
        Assert.Equal(Report(["eval", "--logits", x, "--targets", y]), Report(["eval", "--logits", fifoP, "--targets", y]));
        Finish(writer, fifoP);

        var writers = new[] { Feed(fifoP, x), Feed(fifoQ, q) };
        Assert.Equal(Report(["compare", "--base", x, "--test", q]), Report(["compare", "--base", fifoP, "--test", fifoQ]));
        Finish(writers[0], fifoP);
        Finish(writers[1], fifoQ);

        // The IB reads its rows in every iteration, from memory once the first pass has kept them.
        string[] ib = ["ib", "--beta", "3", "--clusters", "3", "--restarts", "2", "--seed", "5"];
        writer = Feed(fifoP, x);
        static bool Timeless(string line) => !line.StartsWith("products", StringComparison.Ordinal) && !line.Contains("seconds", StringComparison.Ordinal);
        Assert.Equal(Report([.. ib, "--logits", x]).Where(Timeless), Report([.. ib, "--logits", fifoP]).Where(Timeless));
        Finish(writer, fifoP);

        foreach (var (option, value) in new[] { ("--shard", "0/2"), ("--partial", dir.File("part.json")) })
        {
            writer = Feed(fifoP, x);
            CliRunner.Fails(2, [fifoP, "is a pipe", $"{option} needs a file"], "eval", "--logits", fifoP, "--targets", y, option, value);
            Finish(writer, fifoP);
        }

        writer = Feed(fifoP, x);
        CliRunner.Fails(2, [fifoP, "is a pipe, read once", "--resident-mib 1 or more"], "ib", "--logits", fifoP, "--beta", "2", "--clusters", "3", "--resident-mib", "0", "--device", "cpu");
        Finish(writer, fifoP);

        CliRunner.Fails(2, ["cannot both be standard input"], "compare", "--base", "-", "--test", "-");
        CliRunner.Fails(3, ["-: standard input can carry only the rows of eval, compare or ib"], "eval", "--logits", x, "--targets", "-");
    }

    private static string Targets(TempDir dir)
    {
        string path = dir.File("y.npy");
        NpyFormat.Write<long>(path, new long[Rows], [Rows]);
        return path;
    }

    private static void WriteLogits(string path, float[] logits, string dtype)
    {
        switch (dtype)
        {
            case "f2":
                NpyFormat.Write<Half>(path, logits.Select(v => (Half)v).ToArray(), [Rows, Vocab]);
                break;
            case "f8":
                NpyFormat.Write<double>(path, logits.Select(v => (double)v).ToArray(), [Rows, Vocab]);
                break;
            default:
                NpyFormat.Write<float>(path, logits, [Rows, Vocab]);
                break;
        }
    }

    private static string Fifo(TempDir dir, string name)
    {
        string path = dir.File(name);
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        Assert.SkipWhen(mkfifo.ExitCode != 0, $"mkfifo failed: {mkfifo.StandardError.ReadToEnd()}");
        return path;
    }

    /// <summary>Writes a file's bytes into a named pipe on a thread of its own (opening it waits for the reader); a reader that leaves early breaks the pipe, which is expected.</summary>
    private static Thread Feed(string fifo, string file)
    {
        var thread = new Thread(() =>
        {
            try
            {
                using var pipe = new FileStream(fifo, FileMode.Open, System.IO.FileAccess.Write);
                pipe.Write(File.ReadAllBytes(file));
            }
            catch (IOException)
            {
            }
        });
        thread.Start();
        return thread;
    }

    /// <summary>Waits for a writer; one still waiting for a reader after a minute (the CLI never opened the pipe) is released by opening the pipe here, and the test fails.</summary>
    private static void Finish(Thread writer, string fifo)
    {
        if (writer.Join(TimeSpan.FromMinutes(1)))
        {
            return;
        }

        using (var pipe = new FileStream(fifo, FileMode.Open, System.IO.FileAccess.Read))
        {
            pipe.CopyTo(Stream.Null);
        }

        writer.Join();
        Assert.Fail($"nothing read {fifo}");
    }

    /// <summary>A stream that cannot seek and hands out at most <paramref name="piece"/> bytes a read, as a pipe does.</summary>
    private sealed class TrickleStream(byte[] bytes, int piece) : Stream
    {
        private int _at;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(piece, buffer.Length), bytes.Length - _at);
            bytes.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
