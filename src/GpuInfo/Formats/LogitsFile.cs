using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Formats;

/// <summary>
/// Logits in a file, <c>[N, V]</c> or <c>[B, T, V]</c>, read by row ranges into caller buffers
/// (bounded memory for files of any size). float32/fp16/bf16 are read as stored; float64 is
/// narrowed to float32 per chunk.
/// </summary>
public sealed class LogitsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private byte[]? _wide;

    private LogitsFile(TensorInfo info, SafeFileHandle handle)
    {
        Info = info;
        _handle = handle;
        Vocab = (int)info.Shape[^1];
        Rows = info.Rank == 2 ? info.Shape[0] : info.Shape[0] * info.Shape[1];
        SequenceLength = info.Rank == 3 ? info.Shape[1] : Rows;
        Type = info.DType switch
        {
            DType.Float16 => ScalarType.Float16,
            DType.BFloat16 => ScalarType.BFloat16,
            _ => ScalarType.Float32,
        };
    }

    public TensorInfo Info { get; }

    public string Path => Info.Path;

    public long Rows { get; }

    public int Vocab { get; }

    /// <summary>T for <c>[B, T, V]</c>, N for <c>[N, V]</c>.</summary>
    public long SequenceLength { get; }

    /// <summary>The type rows are delivered in.</summary>
    public ScalarType Type { get; }

    public long RowBytes => (long)Vocab * Type.Size();

    /// <exception cref="InvalidFileException">Not a readable logits tensor.</exception>
    public static LogitsFile Open(string path, string? tensor = null)
    {
        var info = TensorInfo.Open(path, tensor);
        if (!info.DType.IsFloat())
        {
            throw new InvalidFileException(path, $"logits must be floating point (F32, F16, BF16 or F64); this tensor is {info.DType.SafetensorsName()}.");
        }

        if (info.Rank is not (2 or 3))
        {
            throw new InvalidFileException(path, $"logits must be [N, V] or [B, T, V]; the shape is {info.ShapeText}.");
        }

        if (info.Shape[^1] is < 1 or > int.MaxValue)
        {
            throw new InvalidFileException(path, $"vocabulary size {info.Shape[^1]} is out of range (1 to {int.MaxValue}).");
        }

        return new LogitsFile(info, File.OpenHandle(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, FileOptions.SequentialScan));
    }

    /// <summary>Reads <paramref name="rows"/> rows from <paramref name="firstRow"/> into <paramref name="buffer"/> (at least rows × RowBytes).</summary>
    public Logits ReadRows(long firstRow, int rows, byte[] buffer)
    {
        var dest = buffer.AsSpan(0, checked((int)(rows * RowBytes)));
        ReadInto(firstRow, rows, dest);
        return Logits.FromBytes(dest, Vocab, Type);
    }

    /// <summary>Reads rows as <see cref="Type"/> into <paramref name="destination"/> (exactly rows × RowBytes); one reader thread per file at a time.</summary>
    public void ReadInto(long firstRow, int rows, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        if (firstRow + rows > Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{firstRow}, {firstRow + rows}) exceed the file's {Rows}.");
        }

        long bytes = rows * RowBytes;
        if (destination.Length != bytes)
        {
            throw new ArgumentException($"expected {bytes} bytes for {rows} rows, got {destination.Length}.", nameof(destination));
        }

        if (Info.DType == DType.Float64)
        {
            long wide = bytes * 2;
            _wide = _wide is null || _wide.Length < wide ? new byte[wide] : _wide;
            FileAccess.ReadExactly(_handle, _wide.AsSpan(0, (int)wide), Info.DataOffset + firstRow * Vocab * 8L, Path);
            var doubles = MemoryMarshal.Cast<byte, double>(_wide.AsSpan(0, (int)wide));
            var floats = MemoryMarshal.Cast<byte, float>(destination);
            for (int i = 0; i < floats.Length; i++)
            {
                floats[i] = (float)doubles[i];
            }
        }
        else
        {
            FileAccess.ReadExactly(_handle, destination, Info.DataOffset + firstRow * RowBytes, Path);
        }
    }

    public void Dispose() => _handle.Dispose();
}
