using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Tests.Formats;

public sealed class SafetensorsFormatTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_named_tensors_of_every_supported_dtype()
    {
        string path = _dir.File("model.safetensors");
        var bf16 = new[] { 1f, -2f, 0.5f, 4f }.Select(BFloat16Bits.FromSingle).SelectMany(BitConverter.GetBytes).ToArray();
        SafetensorsFormat.Write(path,
        [
            ("logits", DType.BFloat16, [2, 2], bf16),
            ("targets", DType.Int64, [2], BitConverter.GetBytes(1L).Concat(BitConverter.GetBytes(0L)).ToArray()),
            ("f16", DType.Float16, [1], BitConverter.GetBytes((Half)1.5f)),
            ("f64", DType.Float64, [1], BitConverter.GetBytes(2.5)),
            ("i32", DType.Int32, [1], BitConverter.GetBytes(7)),
            ("f32", DType.Float32, [1], BitConverter.GetBytes(3f)),
        ]);
        using var logits = LogitsFile.Open(path, "logits");
        Assert.Equal(ScalarType.BFloat16, logits.Type);
        Assert.Equal(2, logits.Vocab);
        using var targets = TargetsFile.Open(path, "targets");
        var y = new long[2];
        targets.Read(0, y);
        Assert.Equal(new long[] { 1, 0 }, y);
        Assert.Equal(6, SafetensorsFormat.ReadAll(path).Count);
        Assert.Contains("pick one with --tensor", Assert.Throws<InvalidFileException>(() => TensorInfo.Open(path)).Message, StringComparison.Ordinal);
        Assert.Contains("no tensor named 'nope'", Assert.Throws<InvalidFileException>(() => TensorInfo.Open(path, "nope")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "needs 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 8, "overlaps")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "not described")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated")]
    [InlineData("{\"a\":{\"dtype\":\"X9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "reversed")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets")]
    [InlineData("{\"a\":1}", 4, "not an object")]
    [InlineData("[1,2]", 4, "start with '{'")]
    [InlineData("{\"a\":", 4, "not valid")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__")]
    public void Header_rules_are_enforced(string header, int dataBytes, string expected)
    {
        string path = _dir.File("bad.safetensors");
        File.WriteAllBytes(path, Safetensors(header, new byte[dataBytes]));
        var e = Assert.Throws<InvalidFileException>(() => SafetensorsFormat.ReadAll(path));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Huge_or_lying_header_sizes_are_refused_before_reading()
    {
        string path = _dir.File("huge.safetensors");
        File.WriteAllBytes(path, BitConverter.GetBytes(200_000_000UL).Concat(Encoding.ASCII.GetBytes("{}")).ToArray());
        Assert.Contains("exceeds", Assert.Throws<InvalidFileException>(() => SafetensorsFormat.ReadAll(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, BitConverter.GetBytes(5000UL).Concat(Encoding.ASCII.GetBytes("{}")).ToArray());
        Assert.Contains("larger than the file", Assert.Throws<InvalidFileException>(() => SafetensorsFormat.ReadAll(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidFileException>(() => SafetensorsFormat.ReadAll(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_files_with_unsupported_dtypes_are_refused_only_when_used()
    {
        string path = _dir.File("u8.safetensors");
        File.WriteAllBytes(path, Safetensors("{\"mask\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"x\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[2,6]}}", new byte[6]));
        using var x = LogitsFile.Open(path, "x");
        Assert.Contains("dtype U8", Assert.Throws<InvalidFileException>(() => TensorInfo.Open(path, "mask")).Message, StringComparison.Ordinal);
    }

    internal static byte[] Safetensors(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. data];
    }
}
