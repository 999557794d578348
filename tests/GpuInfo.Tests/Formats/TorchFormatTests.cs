using System.IO.Compression;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Tests.Formats;

/// <summary>
/// torch.save files written by PyTorch 1.13 (Torch/, see make_torch_files.py) read as the .npy files
/// numpy wrote beside them, element by element; the files GpuInfo must refuse are refused with
/// InvalidFileException naming the problem.
/// </summary>
public sealed class TorchFormatTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Formats", "Torch", name);

    [Theory]
    [InlineData("f32.pt", null, "f32.npy", DType.Float32, new long[] { 6, 37 })]
    [InlineData("bf16.pt", null, "bf16.npy", DType.BFloat16, new long[] { 2, 3, 37 })]
    [InlineData("fp16.pt", null, "fp16.npy", DType.Float16, new long[] { 2, 3, 37 })]
    [InlineData("int32.pt", null, "int32.npy", DType.Int32, new long[] { 10 })]
    [InlineData("dict.pt", "logits", "dict.logits.npy", DType.Float32, new long[] { 4, 37 })]
    [InlineData("dict.pt", "labels", "dict.labels.npy", DType.Int64, new long[] { 4 })]
    [InlineData("nested.pt", "out.logits", "nested.out.logits.npy", DType.Float32, new long[] { 3, 37 })]
    [InlineData("shared.pt", "a", "shared.a.npy", DType.Float32, new long[] { 3, 37 })]
    [InlineData("shared.pt", "b", "shared.b.npy", DType.Float32, new long[] { 2, 37 })]
    [InlineData("parameter.pt", null, "parameter.npy", DType.Float32, new long[] { 2, 37 })]
    [InlineData("state_dict.pt", "weight", "state_dict.weight.npy", DType.Float32, new long[] { 2, 3 })]
    [InlineData("state_dict.pt", "bias", "state_dict.bias.npy", DType.Float32, new long[] { 2 })]
    [InlineData("protocol4.pt", "logits", "dict.logits.npy", DType.Float32, new long[] { 4, 37 })]
    [InlineData("protocol4.pt", "labels", "dict.labels.npy", DType.Int64, new long[] { 4 })]
    [InlineData("zip64.pt", "logits", "dict.logits.npy", DType.Float32, new long[] { 4, 37 })]
    [InlineData("zip64.pt", "labels", "dict.labels.npy", DType.Int64, new long[] { 4 })]
    [InlineData("torch2.pt", null, "f32.npy", DType.Float32, new long[] { 6, 37 })]
    [InlineData("v3.pt", "logits", "v3.logits.npy", DType.Float32, new long[] { 2, 37 })]
    [InlineData("noncontiguous.pt", "ok", null, DType.Float32, new long[] { 2, 37 })]
    [InlineData("uint8.pt", "logits", null, DType.Float32, new long[] { 2, 37 })]
    public void Reads_each_tensor_as_numpy_wrote_it(string file, string? name, string? npy, DType dtype, long[] shape)
    {
        var info = TensorInfo.Open(Fixture(file), name);
        Assert.Equal(dtype, info.DType);
        Assert.Equal(shape, info.Shape);
        Assert.Null(info.Unsupported);
        Assert.Equal(name is not null, info.Named);
        Assert.Equal(name ?? file, info.Name);
        var values = Values(info);
        Assert.Equal(info.ElementCount, values.Length);
        if (npy is not null)
        {
            var expected = TensorInfo.Open(Fixture(npy));
            Assert.Equal(shape, expected.Shape);
            Assert.Equal(Values(expected), values);
        }
    }

    [Fact]
    public void A_dict_lists_its_tensors_in_order_and_names_what_is_not_one()
    {
        string path = Fixture("dict.pt");
        var contents = TorchFormat.ReadAll(path);
        Assert.Equal(["logits", "labels"], contents.Tensors.Select(t => t.Name));
        Assert.Equal(new Dictionary<string, string> { ["note"] = "str", ["step"] = "int" }, contents.Others);
        Assert.False(contents.Single);
        Assert.Contains("holds 2 tensors (logits, labels); pick one with --tensor NAME", Refusal(path, null), StringComparison.Ordinal);
        Assert.Contains("'note' is a str, not a tensor", Refusal(path, "note"), StringComparison.Ordinal);
        Assert.Contains("no tensor named 'nope' (it holds: logits, labels)", Refusal(path, "nope"), StringComparison.Ordinal);
        Assert.Contains("saved bare", Refusal(Fixture("f32.pt"), "logits"), StringComparison.Ordinal);
        Assert.Equal(["out.logits", "ids.0"], TorchFormat.ReadAll(Fixture("nested.pt")).Tensors.Select(t => t.Name));

        // A state_dict is an OrderedDict whose _metadata attribute BUILD sets: not one of its values.
        var stateDict = TorchFormat.ReadAll(Fixture("state_dict.pt"));
        Assert.Equal(["weight", "bias"], stateDict.Tensors.Select(t => t.Name));
        Assert.Empty(stateDict.Others);
    }

    [Fact]
    public void Tensors_sharing_a_storage_are_read_at_their_offsets()
    {
        var a = TensorInfo.Open(Fixture("shared.pt"), "a");
        var b = TensorInfo.Open(Fixture("shared.pt"), "b");
        Assert.Equal(37 * 4, a.DataOffset - b.DataOffset);
    }

    [Fact]
    public void The_header_is_the_pickle_that_torch_writes_first()
    {
        using var zip = ZipFile.OpenRead(Fixture("dict.pt"));
        var pickle = zip.GetEntry("dict/data.pkl")!;
        var info = TensorInfo.Open(Fixture("dict.pt"), "logits");
        var bytes = File.ReadAllBytes(Fixture("dict.pt"));
        using var stream = pickle.Open();
        var expected = new byte[pickle.Length];
        stream.ReadExactly(expected);
        Assert.Equal(expected, bytes.AsSpan((int)info.HeaderBytes - expected.Length, expected.Length).ToArray());
        Assert.True(info.HeaderBytes < info.DataOffset);
    }

    [Theory]
    [InlineData("noncontiguous.pt", "logits", "tensor 'logits' is a non-contiguous view (shape [6, 37], strides [1, 6]); save it with .contiguous().")]
    [InlineData("uint8.pt", "mask", "tensor 'mask' has dtype uint8; supported: F32, F16, BF16, F64, I32, I64.")]
    [InlineData("v3.pt", "ids", "tensor 'ids' has dtype uint16; supported: F32, F16, BF16, F64, I32, I64.")]
    [InlineData("legacy.pt", null, "legacy torch.save format (torch < 1.6, or _use_new_zipfile_serialization=False); re-save it with torch >= 1.6's default.")]
    [InlineData("module.pt", null, "module/data.pkl: holds a torch.nn.modules.linear.Linear (unsupported); save a tensor or a dict of tensors.")]
    [InlineData("custom.pt", null, "custom/data.pkl: holds a __main__.Custom (unsupported); save a tensor or a dict of tensors.")]
    [InlineData("custom4.pt", null, "custom4/data.pkl: holds a __main__.Custom (unsupported); save a tensor or a dict of tensors.")]
    public void Refuses_what_it_cannot_read_and_says_why(string file, string? name, string problem)
    {
        var e = Assert.Throws<InvalidFileException>(() => TensorInfo.Open(Fixture(file), name));
        Assert.Equal(problem, e.Problem);
        Assert.Equal(Fixture(file), e.Path);
    }

    [Fact]
    public void The_zip_directory_agrees_with_zip_archive_on_every_fixture()
    {
        foreach (string path in Directory.GetFiles(Fixture(string.Empty), "*.pt").Where(p => !p.EndsWith("legacy.pt", StringComparison.Ordinal)))
        {
            using var file = File.OpenRead(path);
            var entries = ZipDirectory.Read(file, path);
            using var zip = ZipFile.OpenRead(path);
            Assert.Equal(zip.Entries.Select(e => e.FullName), entries.Select(e => e.Name));
            var bytes = File.ReadAllBytes(path);
            foreach (var entry in entries)
            {
                using var stream = zip.GetEntry(entry.Name)!.Open();
                var expected = new byte[entry.Size];
                stream.ReadExactly(expected);
                long at = ZipDirectory.StoredDataOffset(file, entry, path);
                Assert.Equal(expected, bytes.AsSpan((int)at, (int)entry.Size).ToArray());
            }
        }
    }

    [Fact]
    public void The_zip64_fixture_uses_every_zip64_record()
    {
        var bytes = File.ReadAllBytes(Fixture("zip64.pt"));
        Assert.Equal(0x06064b50u, BitConverter.ToUInt32(bytes, bytes.Length - 22 - 20 - 56));
        Assert.Equal(0x07064b50u, BitConverter.ToUInt32(bytes, bytes.Length - 22 - 20));
        Assert.Equal(uint.MaxValue, BitConverter.ToUInt32(bytes, bytes.Length - 22 + 16));
        using var file = File.OpenRead(Fixture("zip64.pt"));
        Assert.Equal(4, ZipDirectory.Read(file, Fixture("zip64.pt")).Count);
    }

    [Fact]
    public void Every_truncation_is_refused_as_an_invalid_file()
    {
        var valid = File.ReadAllBytes(Fixture("dict.pt"));
        string path = _dir.File("cut.pt");
        for (int length = 0; length < valid.Length; length++)
        {
            File.WriteAllBytes(path, valid[..length]);
            Assert.Throws<InvalidFileException>(() => TorchFormat.ReadAll(path));
        }
    }

    [Theory]
    [InlineData(0, "not a torch.save file")]
    [InlineData(-22, "no zip end-of-central-directory record")]
    public void A_broken_signature_is_refused(int at, string problem)
    {
        var bytes = File.ReadAllBytes(Fixture("f32.pt"));
        bytes[at < 0 ? bytes.Length + at : at] ^= 0xFF;
        string path = _dir.File("broken.pt");
        File.WriteAllBytes(path, bytes);
        Assert.Contains(problem, Assert.Throws<InvalidFileException>(() => TorchFormat.ReadAll(path)).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compressed_record_is_refused()
    {
        string path = _dir.File("deflated.pt");
        Rezip(Fixture("f32.pt"), path, CompressionLevel.Optimal, (_, data) => data);
        var e = Assert.Throws<InvalidFileException>(() => TorchFormat.ReadAll(path));
        Assert.Equal("entry 'f32/data.pkl' is compressed (method 8); torch.save stores its entries uncompressed.", e.Problem);
    }

    [Fact]
    public void A_big_endian_file_is_refused()
    {
        string path = _dir.File("big.pt");
        Rezip(Fixture("torch2.pt"), path, CompressionLevel.NoCompression, (name, data) => name.EndsWith("/byteorder", StringComparison.Ordinal) ? "big"u8.ToArray() : data);
        Assert.StartsWith("written on a big-endian machine (byteorder 'big')", Assert.Throws<InvalidFileException>(() => TorchFormat.ReadAll(path)).Problem, StringComparison.Ordinal);
        string little = _dir.File("little.pt");
        Rezip(Fixture("torch2.pt"), little, CompressionLevel.NoCompression, (_, data) => data);
        Assert.Equal(Values(TensorInfo.Open(Fixture("f32.npy"))), Values(TensorInfo.Open(little)));
    }

    [Fact]
    public void A_file_row_source_names_the_dict_tensor_it_read()
    {
        using var named = FileRowSource.Open(Fixture("dict.pt"), Fixture("dict.pt"), new FileRowSourceOptions { LogitsTensor = "logits", TargetsTensor = "labels" });
        var settings = named.Describe().Settings;
        Assert.Equal("logits", settings["logits_tensor"]);
        Assert.Equal("labels", settings["targets_tensor"]);
        using var bare = FileRowSource.Open(Fixture("f32.pt"));
        Assert.False(bare.Describe().Settings.ContainsKey("logits_tensor"));
    }

    /// <summary>A zip of stored entries, as ZipArchive writes it (no alignment: GpuInfo needs none).</summary>
    internal static byte[] Zip(IEnumerable<(string Name, byte[] Data)> entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var write = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                write.Write(data);
            }
        }

        return memory.ToArray();
    }

    /// <summary>Copies a zip's entries into a new one written by ZipArchive, each entry's bytes passed through <paramref name="edit"/>.</summary>
    private static void Rezip(string source, string target, CompressionLevel level, Func<string, byte[], byte[]> edit)
    {
        using var from = ZipFile.OpenRead(source);
        using var to = ZipFile.Open(target, ZipArchiveMode.Create);
        foreach (var entry in from.Entries)
        {
            var data = new byte[entry.Length];
            using (var stream = entry.Open())
            {
                stream.ReadExactly(data);
            }

            using var write = to.CreateEntry(entry.FullName, level).Open();
            write.Write(edit(entry.FullName, data));
        }
    }

    private static string Refusal(string path, string? name) => Assert.Throws<InvalidFileException>(() => TensorInfo.Open(path, name)).Problem;

    /// <summary>Every element of a tensor as double, read from its file at <see cref="TensorInfo.DataOffset"/>.</summary>
    internal static double[] Values(TensorInfo info)
    {
        var bytes = new byte[info.ByteLength];
        using (var file = File.OpenRead(info.Path))
        {
            file.Position = info.DataOffset;
            file.ReadExactly(bytes);
        }

        int size = info.DType.Size();
        return [.. Enumerable.Range(0, bytes.Length / size).Select(i => info.DType switch
        {
            DType.Float32 => BitConverter.ToSingle(bytes, i * 4),
            DType.Float16 => (double)BitConverter.ToHalf(bytes, i * 2),
            DType.BFloat16 => BFloat16Bits.ToSingle(BitConverter.ToUInt16(bytes, i * 2)),
            DType.Float64 => BitConverter.ToDouble(bytes, i * 8),
            DType.Int32 => BitConverter.ToInt32(bytes, i * 4),
            _ => BitConverter.ToInt64(bytes, i * 8),
        })];
    }
}
