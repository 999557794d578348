using System.Runtime.InteropServices;
using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Tests.Formats;

public sealed class NpyFormatTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_every_header_version(int version)
    {
        var data = new float[] { 1.5f, -2f, 3.25f, 4f, 5f, 6f };
        string path = _dir.File($"v{version}.npy");
        File.WriteAllBytes(path, Npy(version, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", MemoryMarshal.AsBytes(data.AsSpan()).ToArray()));
        var info = NpyFormat.Read(path);
        Assert.Equal(DType.Float32, info.DType);
        Assert.Equal(new long[] { 2, 3 }, info.Shape);
        using var logits = LogitsFile.Open(path);
        var buffer = new byte[24];
        var view = logits.ReadRows(0, 2, buffer);
        Assert.Equal(2, view.Rows);
        Assert.Equal(data, MemoryMarshal.Cast<byte, float>(buffer).ToArray());
    }

    [Fact]
    public void Writes_what_it_reads()
    {
        string path = _dir.File("roundtrip.npy");
        var data = new long[] { 3, -100, 7 };
        NpyFormat.Write(path, data.AsSpan(), [3]);
        using var targets = TargetsFile.Open(path);
        var back = new long[3];
        targets.Read(0, back);
        Assert.Equal(data, back);
    }

    [Fact]
    public void Float64_logits_are_narrowed_to_float32_per_chunk()
    {
        string path = _dir.File("f64.npy");
        NpyFormat.Write(path, new double[] { 0.5, 1.5, 2.5, 3.5 }.AsSpan(), [2, 2]);
        using var logits = LogitsFile.Open(path);
        Assert.Equal(ScalarType.Float32, logits.Type);
        var buffer = new byte[16];
        logits.ReadRows(1, 1, buffer);
        Assert.Equal(new[] { 2.5f, 3.5f }, MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, 8)).ToArray());
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "Fortran")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", "big-endian")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", "unsupported dtype")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", "truncated")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", "unexpected bytes")]
    [InlineData("{'descr': '<f4', 'shape': (2, 3), }", "fortran_order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", "malformed")]
    [InlineData("not a dict", "malformed")]
    public void Malformed_headers_are_refused_clearly(string header, string expected)
    {
        string path = _dir.File("bad.npy");
        File.WriteAllBytes(path, Npy(1, header, new byte[24]));
        var e = Assert.Throws<InvalidFileException>(() => NpyFormat.Read(path));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Junk_and_missing_files_are_refused_clearly()
    {
        string junk = _dir.File("junk.npy");
        File.WriteAllBytes(junk, Encoding.ASCII.GetBytes("hello, this is not numpy at all"));
        Assert.Contains("magic", Assert.Throws<InvalidFileException>(() => NpyFormat.Read(junk)).Message, StringComparison.Ordinal);
        Assert.Contains("not found", Assert.Throws<InvalidFileException>(() => NpyFormat.Read(_dir.File("missing.npy"))).Message, StringComparison.Ordinal);
        File.WriteAllBytes(junk, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xFF, 0x7F]);
        Assert.Contains("header length", Assert.Throws<InvalidFileException>(() => NpyFormat.Read(junk)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Integer_logits_and_float_targets_are_refused()
    {
        string ints = _dir.File("ints.npy");
        NpyFormat.Write(ints, new int[] { 1, 2, 3, 4 }.AsSpan(), [2, 2]);
        Assert.Contains("floating point", Assert.Throws<InvalidFileException>(() => LogitsFile.Open(ints)).Message, StringComparison.Ordinal);
        string floats = _dir.File("floats.npy");
        NpyFormat.Write(floats, new float[] { 1, 2 }.AsSpan(), [2]);
        Assert.Contains("integers", Assert.Throws<InvalidFileException>(() => TargetsFile.Open(floats)).Message, StringComparison.Ordinal);
        Assert.Contains("[N, V]", Assert.Throws<InvalidFileException>(() => LogitsFile.Open(floats)).Message, StringComparison.Ordinal);
    }

    /// <summary>A .npy file with the given header text, padded like NumPy pads it.</summary>
    internal static byte[] Npy(int version, string header, byte[] data)
    {
        int prelude = version == 1 ? 10 : 12;
        int padded = (prelude + header.Length + 1 + 63) / 64 * 64;
        var text = (version == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(header.PadRight(padded - prelude - 1) + "\n");
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0 };
        bytes.AddRange(version == 1 ? BitConverter.GetBytes((ushort)text.Length) : BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(text);
        bytes.AddRange(data);
        return [.. bytes];
    }
}
