using System.Security.Cryptography;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>Row sources: what opening them checks, how they describe themselves, and shards' arithmetic.</summary>
public sealed class RowSourceTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private const int Vocab = 37;
    private readonly InfoEngine _engine = fixture.Engine;

    /// <summary>The bytes before a version-1 .npy file's data, from the format's own fields (magic, version, header length).</summary>
    private static byte[] NpyHeader(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(1, bytes[6]);
        int length = 10 + BitConverter.ToUInt16(bytes, 8);
        return bytes[..length];
    }

    /// <summary>
    /// A source fingerprints its files on a task of its own; disposed at once (a CLI usage error right
    /// after opening), that task held a file open, and rewriting the file then failed ("being used by
    /// another process": the cause of a CI failure).
    /// </summary>
    [Fact]
    public void A_disposed_file_source_holds_no_file_open()
    {
        using var dir = new TempDir();
        var data = new TestData(301);
        string x = dir.File("x.npy"), y = dir.File("y.npy");
        NpyFormat.Write<long>(y, new long[4], [4]);
        for (int i = 0; i < 200; i++)
        {
            NpyFormat.Write<float>(x, data.Logits(4, Vocab), [4, Vocab]);
            RowSources.Open(x, y).Dispose();
        }
    }

    [Fact]
    public void Targets_that_do_not_match_the_rows_name_the_targets_file()
    {
        using var dir = new TempDir();
        var data = new TestData(300);
        NpyFormat.Write<float>(dir.File("x.npy"), data.Logits(10, Vocab), [10, Vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), new long[9], [9]);
        var e = Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy")));
        Assert.Equal(dir.File("y.npy"), e.Path);
        Assert.StartsWith(dir.File("y.npy"), e.Message, StringComparison.Ordinal);
        Assert.Contains("9", e.Message, StringComparison.Ordinal);
        Assert.Contains("10", e.Message, StringComparison.Ordinal);

        // As many targets in another shape are refused: [B, T] against flattened rows, or [T, B]
        // against [B, T, V], would pair rows with the wrong targets (and --shift would cross sequences).
        NpyFormat.Write<long>(dir.File("y25.npy"), new long[10], [2, 5]);
        var flattened = Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("x.npy"), dir.File("y25.npy")));
        Assert.Equal(dir.File("y25.npy"), flattened.Path);
        Assert.Contains("[2, 5]", flattened.Message, StringComparison.Ordinal);
        Assert.Contains("flattened to [10]", flattened.Message, StringComparison.Ordinal);
        NpyFormat.Write<float>(dir.File("x3.npy"), data.Logits(10, Vocab), [2, 5, Vocab]);
        NpyFormat.Write<long>(dir.File("y52.npy"), new long[10], [5, 2]);
        var transposed = Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("x3.npy"), dir.File("y52.npy"), new FileRowSourceOptions { Shift = true }));
        Assert.Contains("[5, 2]", transposed.Message, StringComparison.Ordinal);

        // The logits' own leading shape, or the targets flattened, pair one to one by row.
        using var same = FileRowSource.Open(dir.File("x3.npy"), dir.File("y25.npy"), new FileRowSourceOptions { Shift = true });
        NpyFormat.Write<long>(dir.File("y10.npy"), new long[10], [10]);
        using var flat = FileRowSource.Open(dir.File("x3.npy"), dir.File("y10.npy"));
        Assert.True(same.HasTargets && flat.HasTargets);
    }

    [Fact]
    public void Files_that_are_not_logits_or_targets_are_refused_naming_them()
    {
        using var dir = new TempDir();
        NpyFormat.Write<long>(dir.File("ints.npy"), new long[20], [4, 5]);
        NpyFormat.Write<float>(dir.File("flat.npy"), new float[20], [20]);
        NpyFormat.Write<float>(dir.File("x.npy"), new float[4 * Vocab], [4, Vocab]);
        NpyFormat.Write<float>(dir.File("floaty.npy"), new float[4], [4]);
        File.WriteAllText(dir.File("junk.npy"), "not numpy");

        Assert.Equal(dir.File("ints.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("ints.npy"))).Path);
        Assert.Equal(dir.File("flat.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("flat.npy"))).Path);
        Assert.Equal(dir.File("junk.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("junk.npy"))).Path);
        Assert.Equal(dir.File("missing.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("missing.npy"))).Path);
        Assert.Equal(dir.File("floaty.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("x.npy"), dir.File("floaty.npy"))).Path);
        Assert.Equal(dir.File("junk.npy"), Assert.Throws<InvalidFileException>(() => FileRowSource.Open(dir.File("x.npy"), dir.File("junk.npy"))).Path);
    }

    [Fact]
    public void Shift_needs_targets_and_sequences_of_two_positions()
    {
        using var dir = new TempDir();
        var data = new TestData(301);
        NpyFormat.Write<float>(dir.File("b1.npy"), data.Logits(3, Vocab), [3, 1, Vocab]);
        NpyFormat.Write<long>(dir.File("y3.npy"), new long[3], [3, 1]);
        NpyFormat.Write<float>(dir.File("n1.npy"), data.Logits(1, Vocab), [1, Vocab]);
        NpyFormat.Write<long>(dir.File("y1.npy"), new long[1], [1]);
        NpyFormat.Write<float>(dir.File("n5.npy"), data.Logits(5, Vocab), [5, Vocab]);
        NpyFormat.Write<long>(dir.File("y5.npy"), new long[5], [5]);
        var shift = new FileRowSourceOptions { Shift = true };

        Assert.ThrowsAny<ArgumentException>(() => FileRowSource.Open(dir.File("b1.npy"), dir.File("y3.npy"), shift));
        Assert.ThrowsAny<ArgumentException>(() => FileRowSource.Open(dir.File("n1.npy"), dir.File("y1.npy"), shift));
        Assert.ThrowsAny<ArgumentException>(() => FileRowSource.Open(dir.File("n5.npy"), null, shift));

        // [N, V] is one sequence of N positions: allowed for N >= 2.
        using var ok = FileRowSource.Open(dir.File("n5.npy"), dir.File("y5.npy"), shift);
        var partial = CorpusRun.Evaluate(_engine, ok);
        Assert.Equal(1, partial.RowsWithoutTarget);
        Assert.Equal(4, partial.Evaluation!.Tokens);

        // Without shift, [B, 1, V] is fine.
        using var plain = FileRowSource.Open(dir.File("b1.npy"), dir.File("y3.npy"));
        Assert.Equal(3, plain.Rows);
    }

    [Fact]
    public void Memory_sources_refuse_partial_rows_and_miscounted_targets()
    {
        Assert.Throws<ArgumentException>(() => MemoryRowSource.Float32(new float[100], Vocab));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.Float16(new Half[100], Vocab));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.BFloat16(new ushort[100], Vocab));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.Float32(new float[3 * Vocab], Vocab, new long[2]));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.Float32(new float[3 * Vocab], Vocab, new long[4]));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.Float16(new Half[3 * Vocab], Vocab, new long[4]));
        Assert.Throws<ArgumentException>(() => MemoryRowSource.BFloat16(new ushort[3 * Vocab], Vocab, new long[2]));
        Assert.ThrowsAny<ArgumentException>(() => MemoryRowSource.Float32(new float[10], 0));
        Assert.ThrowsAny<ArgumentException>(() => MemoryRowSource.Float32(new float[10], -5));
        Assert.Throws<ArgumentNullException>(() => MemoryRowSource.Float32(new float[Vocab], Vocab, null, null!));

        using var ok = MemoryRowSource.Float32(new float[3 * Vocab], Vocab, new long[3], "ok");
        Assert.Equal(3, ok.Rows);
        Assert.Equal(Vocab, ok.Vocab);
        Assert.True(ok.HasTargets);
        Assert.Equal("ok", ok.Name);
        Assert.Equal("ok", ok.TargetsName);
        using var empty = MemoryRowSource.Float32(ReadOnlyMemory<float>.Empty, Vocab);
        Assert.Equal(0, empty.Rows);
        Assert.False(empty.HasTargets);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_file_source_describes_both_files_and_its_settings(bool shift)
    {
        using var dir = new TempDir();
        var data = new TestData(302);
        NpyFormat.Write<float>(dir.File("x.npy"), data.Logits(12, Vocab), [3, 4, Vocab]);
        NpyFormat.Write<int>(dir.File("y.npy"), new int[12], [3, 4]);
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"), new FileRowSourceOptions { Shift = shift });
        Assert.Equal(dir.File("x.npy"), source.Name);
        Assert.Equal(dir.File("y.npy"), source.TargetsName);
        Assert.Equal("[3, 4, 37]", source.ShapeText);

        var d = source.Describe();
        Assert.Equal("tensor-files", d.Kind);
        Assert.Equal(12, d.Rows);
        Assert.Equal(Vocab, d.Vocab);
        Assert.Equal(ScalarType.Float32, d.Type);
        Assert.Equal(RowValueKind.Logits, d.Values);
        Assert.Equal(2, d.Files.Count);
        foreach (var (file, role) in d.Files.Zip(new[] { ("x.npy", "logits"), ("y.npy", "targets") }))
        {
            string path = dir.File(role.Item1);
            Assert.Equal(role.Item2, file.Role);
            Assert.Equal(path, file.Path);
            Assert.Equal(new FileInfo(path).Length, file.Bytes);
            Assert.Matches("^[0-9a-f]{64}$", file.HeaderSha256);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(NpyHeader(path))), file.HeaderSha256);
        }

        Assert.NotEqual(d.Files[0].HeaderSha256, d.Files[1].HeaderSha256);
        Assert.Equal(shift ? "true" : "false", d.Settings["shift"]);
        Assert.Equal("[3, 4, 37]", d.Settings["shape"]);
        Assert.Equal("F32", d.Settings["stored_dtype"]);

        using var bare = FileRowSource.Open(dir.File("x.npy"));
        var b = bare.Describe();
        Assert.Single(b.Files);
        Assert.Equal("false", b.Settings["shift"]);
        Assert.False(bare.HasTargets);
        Assert.Equal(bare.Name, bare.TargetsName);
    }

    [Fact]
    public void Float64_files_are_narrowed_to_float32()
    {
        using var dir = new TempDir();
        var data = new TestData(303);
        const int rows = 9;
        var wide = Enumerable.Range(0, rows * Vocab).Select(_ => data.Normal() * 4).ToArray();
        var narrow = wide.Select(v => (float)v).ToArray();
        var y = CorpusCheck.Targets(data, rows, Vocab, 0.1);
        NpyFormat.Write<double>(dir.File("x.npy"), wide, [rows, Vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), y, [rows]);
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"));
        Assert.Equal(ScalarType.Float32, source.Type);
        Assert.Equal("F64", source.Describe().Settings["stored_dtype"]);
        var partial = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = 1 });
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, narrow, Vocab, y), partial.Evaluation, "float64 file");
    }

    /// <summary>
    /// A float64 row that float32 cannot keep is refused naming it, where it was narrowed anyway: 1e9 and
    /// 1e9 + 1 became one value (a loss of ln 2 for 0.313), 1e300 became +inf ("logit 0 is +inf", which the
    /// file does not hold). A value below float32's range is a masked class, -inf, as it is.
    /// </summary>
    [Fact]
    public void Float64_rows_float32_cannot_keep_are_refused_naming_the_row()
    {
        using var dir = new TempDir();
        NpyFormat.Write<long>(dir.File("y.npy"), [1, 1], [2]);
        void Refused(double[] row, string fragment)
        {
            NpyFormat.Write<double>(dir.File("x.npy"), [.. new double[] { 0, 1, 2 }, .. row], [2, 3]);
            using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"));
            var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source));
            Assert.Contains("x.npy", e.Message, StringComparison.Ordinal);
            Assert.Contains("row 1: ", e.Message, StringComparison.Ordinal);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        Refused([1e9, 1e9 + 1, 0], "largest logit, 1000000001, is beyond 2^24");
        Refused([-2e7, -2e7 + 1, -3e7], "beyond 2^24");
        Refused([1e300, 0, 0], "logit 0 is 1E+300, beyond float32's range");

        NpyFormat.Write<double>(dir.File("x.npy"), [0, 1, 2, -1e300, 0, 1], [2, 3]);
        using var masked = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"));
        double expected = (Math.Log(Math.Exp(0) + Math.Exp(1) + Math.Exp(2)) - 1 + Math.Log(1 + Math.E) - 0) / 2;
        Assert.Equal(expected, CorpusRun.Evaluate(_engine, masked).Evaluation!.MeanNll, 1e-6);
    }

    [Fact]
    public void Safetensors_tensors_are_chosen_by_name_and_recorded()
    {
        using var dir = new TempDir();
        var data = new TestData(304);
        const int rows = 11;
        var x = data.Logits(rows, Vocab);
        var other = data.Logits(rows, Vocab);
        var bf16 = CorpusCheck.BFloat16(x);
        var y = CorpusCheck.Targets(data, rows, Vocab, 0.2);
        string path = dir.File("model.safetensors");
        SafetensorsFormat.Write(path,
        [
            ("logits", DType.Float32, [rows, Vocab], System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray()),
            ("other", DType.Float32, [rows, Vocab], System.Runtime.InteropServices.MemoryMarshal.AsBytes(other.AsSpan()).ToArray()),
            ("logits_bf16", DType.BFloat16, [rows, Vocab], System.Runtime.InteropServices.MemoryMarshal.AsBytes(bf16.AsSpan()).ToArray()),
            ("ids", DType.Int64, [rows], System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()).ToArray()),
        ]);

        using var source = FileRowSource.Open(path, path, new FileRowSourceOptions { LogitsTensor = "logits", TargetsTensor = "ids" });
        var partial = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = 1 });
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, Vocab, y), partial.Evaluation, "safetensors f32");
        Assert.Equal("logits", partial.Sources[0].Settings["logits_tensor"]);
        Assert.Equal("ids", partial.Sources[0].Settings["targets_tensor"]);

        using var half = FileRowSource.Open(path, path, new FileRowSourceOptions { LogitsTensor = "logits_bf16", TargetsTensor = "ids" });
        Assert.Equal(ScalarType.BFloat16, half.Type);
        var expected = new PerplexityAccumulator();
        _engine.Evaluate(Logits.BFloat16(bf16, Vocab), y, expected);
        CorpusCheck.Same(expected, CorpusRun.Evaluate(_engine, half, run: new CorpusRunOptions { ChunkBytes = 3 * half.RowBytes }).Evaluation, "safetensors bf16");

        // Several tensors and no name: which one is meant is not guessed.
        Assert.Throws<InvalidFileException>(() => FileRowSource.Open(path, path));

        // Shards over different tensors of one file are different runs.
        using var second = FileRowSource.Open(path, path, new FileRowSourceOptions { LogitsTensor = "other", TargetsTensor = "ids" });
        var a = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(0, 2) });
        var b = CorpusRun.Evaluate(_engine, second, run: new CorpusRunOptions { Shard = new Shard(1, 2) });
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Merge([a, b]));
        Assert.Contains("sources[0]", e.Message, StringComparison.Ordinal);
        Assert.Equal("other", b.Sources[0].Settings["logits_tensor"]);
    }

    [Fact]
    public void A_safetensors_tensor_stored_past_2_GiB_can_be_described()
    {
        // A sparse file: 2.4 GB of zeros (a tensor the run does not read), then the logits and the
        // targets. The source's description (which every partial records) fingerprints the file's
        // header; it must not need the bytes before the tensor in one array.
        using var dir = new TempDir();
        const int rows = 4;
        const long pad = 2_400_000_000;
        var data = new TestData(305);
        var x = data.Logits(rows, Vocab);
        var y = CorpusCheck.Targets(data, rows, Vocab, 0);
        long logitsBytes = rows * Vocab * 4L, idsBytes = rows * 8L;
        string header = "{\"pad\":{\"dtype\":\"F32\",\"shape\":[600000000],\"data_offsets\":[0," + pad + "]},"
            + "\"logits\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + Vocab + "],\"data_offsets\":[" + pad + "," + (pad + logitsBytes) + "]},"
            + "\"ids\":{\"dtype\":\"I64\",\"shape\":[" + rows + "],\"data_offsets\":[" + (pad + logitsBytes) + "," + (pad + logitsBytes + idsBytes) + "]}}";
        header = header.PadRight((header.Length + 7) / 8 * 8);
        string path = dir.File("big.safetensors");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
            long dataStart = stream.Position;
            stream.SetLength(dataStart + pad + logitsBytes + idsBytes);
            stream.Position = dataStart + pad;
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()));
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()));
        }

        using var source = FileRowSource.Open(path, path, new FileRowSourceOptions { LogitsTensor = "logits", TargetsTensor = "ids" });
        var description = source.Describe();
        Assert.Equal(2, description.Files.Count);
        Assert.All(description.Files, f => Assert.Matches("^[0-9a-f]{64}$", f.HeaderSha256));
        var partial = CorpusRun.Evaluate(_engine, source);
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, Vocab, y), partial.Evaluation, "tensor past 2 GiB");
    }

    [Fact]
    public void An_empty_source_runs_saves_and_merges_to_nothing()
    {
        using var dir = new TempDir();
        using var source = MemoryRowSource.Float32(ReadOnlyMemory<float>.Empty, Vocab, ReadOnlyMemory<long>.Empty, "empty");
        int reports = 0;
        var partial = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { PartialPath = dir.File("e.json"), Progress = new SyncProgress(_ => reports++) });
        Assert.Equal(0, partial.RowCount);
        Assert.Equal(0, partial.Evaluation!.Tokens);
        Assert.True(double.IsNaN(partial.Evaluation.MeanNll));
        var loaded = CorpusPartial.Load(dir.File("e.json"));
        Assert.Equal(0, loaded.Evaluation!.Tokens);
        Assert.Equal(0.0, loaded.Evaluation.NllSum);
        var compare = CorpusRun.Compare(_engine, source, source, run: new CorpusRunOptions { PartialPath = dir.File("c.json") });
        Assert.Equal(0, compare.Comparison!.Tokens);
        Assert.Equal(0, CorpusPartial.Load(dir.File("c.json")).Comparison!.Tokens);
    }

    [Fact]
    public void A_memory_source_describes_itself_by_name()
    {
        using var source = MemoryRowSource.BFloat16(new ushort[2 * Vocab], Vocab, null, "my-rows", RowValueKind.LogProbabilities);
        var d = source.Describe();
        Assert.Equal("memory", d.Kind);
        Assert.Equal(2, d.Rows);
        Assert.Equal(ScalarType.BFloat16, d.Type);
        Assert.Equal(RowValueKind.LogProbabilities, d.Values);
        Assert.Empty(d.Files);
        Assert.Equal("my-rows", d.Settings["name"]);
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("1/3", 1, 3)]
    [InlineData("6/7", 6, 7)]
    public void Shards_parse_from_i_of_n(string text, int index, int count)
    {
        Assert.True(Shard.TryParse(text, out var shard));
        Assert.Equal(new Shard(index, count), shard);
        Assert.Equal(text, shard.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("1/0")]
    [InlineData("1/-2")]
    [InlineData("a/b")]
    [InlineData("1/3/5")]
    [InlineData("1")]
    [InlineData(" 1/3")]
    [InlineData("1 / 3")]
    [InlineData("+1/3")]
    public void Malformed_shards_do_not_parse(string? text)
    {
        Assert.False(Shard.TryParse(text, out var shard));
        Assert.Equal(Shard.All, shard);
    }

    [Fact]
    public void Shards_tile_the_rows_exactly()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shard(0, 0));
        Assert.Equal((0L, 0L), Shard.All.Range(0));
        foreach (long rows in new long[] { 0, 1, 2, 5, 41, 100, 1_000_003, long.MaxValue / 3 })
        {
            foreach (int n in new[] { 1, 2, 3, 7, 64 })
            {
                long next = 0;
                for (int i = 0; i < n; i++)
                {
                    var (first, count) = new Shard(i, n).Range(rows);
                    Assert.Equal(next, first);
                    Assert.True(count >= rows / n && count <= (rows / n) + 1, $"shard {i}/{n} of {rows} has {count} rows");
                    next = first + count;
                }

                Assert.Equal(rows, next);
            }
        }
    }
}
