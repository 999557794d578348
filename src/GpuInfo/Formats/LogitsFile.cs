using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Formats;

/// <summary>
/// Logits in a file, <c>[N, V]</c> or <c>[B, T, V]</c>, read by row ranges into caller buffers
/// (bounded memory for files of any size). float32/fp16/bf16 are read as stored; float64 is
/// narrowed to float32 per chunk. A .npy stream from a pipe (<see cref="OpenPipe"/>) is read the
/// same way, from its first row on and in order, and its length is checked as it arrives.
/// </summary>
public sealed class LogitsFile : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private readonly Stream? _pipe;
    private long _nextPipeRow;
    private byte[]? _wide;

    private LogitsFile(TensorInfo info, SafeFileHandle? handle, Stream? pipe)
    {
        Info = info;
        _handle = handle;
        _pipe = pipe;
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

    /// <summary>True when the rows come from a pipe: read once, from the first row on, in order.</summary>
    public bool IsPipe => _pipe is not null;

    /// <exception cref="InvalidFileException">Not a readable logits tensor.</exception>
    public static LogitsFile Open(string path, string? tensor = null)
    {
        var info = Validated(TensorInfo.Open(path, tensor));
        return new LogitsFile(info, File.OpenHandle(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, FileOptions.SequentialScan), null);
    }

    /// <summary>
    /// Logits streamed as a .npy (header, then the rows in C order) through a pipe, e.g. from the
    /// process that runs the model: nothing is stored on disk. The stream is read from its first row
    /// on, in order, once; a stream that ends before the header's rows, or goes on after them, is an
    /// error naming <paramref name="name"/>. Takes ownership of <paramref name="pipe"/>.
    /// </summary>
    /// <exception cref="InvalidFileException">Not a .npy stream of logits.</exception>
    public static LogitsFile OpenPipe(Stream pipe, string name)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        try
        {
            var info = Validated(NpyFormat.ReadHeader(pipe, name, out var header));
            return new LogitsFile(info, null, pipe) { Header = header };
        }
        catch
        {
            pipe.Dispose();
            throw;
        }
    }

    /// <summary>A pipe's .npy header bytes (what identifies the stream in a fingerprint); null for a file.</summary>
    public byte[]? Header { get; private init; }

    private static TensorInfo Validated(TensorInfo info)
    {
        string path = info.Path;
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

        return info;
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
            Fill(_wide.AsSpan(0, (int)wide), firstRow, rows, Info.DataOffset + firstRow * Vocab * 8L);
            var doubles = MemoryMarshal.Cast<byte, double>(_wide.AsSpan(0, (int)wide));
            var floats = MemoryMarshal.Cast<byte, float>(destination);
            for (int r = 0; r < rows; r++)
            {
                Narrow(doubles.Slice(r * Vocab, Vocab), floats.Slice(r * Vocab, Vocab), firstRow + r);
            }
        }
        else
        {
            Fill(destination, firstRow, rows, Info.DataOffset + firstRow * RowBytes);
        }
    }

    /// <summary>Where float32's spacing passes 1 (2^24): logits beyond it, which float32 cannot tell 1 apart, are not narrowed.</summary>
    private const double ExactFloat32 = 16_777_216;

    /// <summary>
    /// A float64 row as float32, in which the measures run, where that keeps it: a row whose largest
    /// logit's magnitude passes 2^24 (float32 spacing 2 and more: 1e9 and 1e9 + 1 became one value, a
    /// loss of 0.693 for 0.313) or with a value beyond float32's range (1e300 became +inf) is refused.
    /// A value below -float.MaxValue becomes -inf, a masked class, as it is.
    /// </summary>
    private void Narrow(ReadOnlySpan<double> row, Span<float> narrowed, long rowIndex)
    {
        double most = double.NegativeInfinity;
        for (int j = 0; j < row.Length; j++)
        {
            if (row[j] > float.MaxValue && !double.IsPositiveInfinity(row[j]))
            {
                throw new InvalidFileException(Path, $"row {rowIndex}: logit {j} is {row[j]}, beyond float32's range ({float.MaxValue}), in which the measures run.");
            }

            most = double.IsFinite(row[j]) ? Math.Max(most, row[j]) : most;
            narrowed[j] = (float)row[j];
        }

        if (Math.Abs(most) > ExactFloat32 && double.IsFinite(most))
        {
            throw new InvalidFileException(Path, $"row {rowIndex}: its largest logit, {most}, is beyond 2^24, where float32 (in which the measures run) cannot tell logits 1 apart: subtract each row's largest logit before saving it.");
        }
    }

    private void Fill(Span<byte> destination, long firstRow, int rows, long offset)
    {
        if (_pipe is null)
        {
            FileAccess.ReadExactly(_handle!, destination, offset, Path);
            return;
        }

        if (firstRow != _nextPipeRow)
        {
            throw new InvalidOperationException($"{Path} is a pipe: its rows are read once, in order (row {_nextPipeRow} is next, not {firstRow}).");
        }

        int got = FileAccess.ReadUpTo(_pipe, destination, Path);
        if (got < destination.Length)
        {
            long rowBytes = destination.Length / rows;
            throw new InvalidFileException(Path, $"the stream ended after {firstRow + (got / rowBytes)} of the {Rows} rows its header announces ({Info.ShapeText}).");
        }

        _nextPipeRow = firstRow + rows;
        if (_nextPipeRow == Rows && FileAccess.ReadUpTo(_pipe, stackalloc byte[1], Path) > 0)
        {
            throw new InvalidFileException(Path, $"the stream goes on after the {Rows} rows its header announces ({Info.ShapeText}).");
        }
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _pipe?.Dispose();
    }
}
