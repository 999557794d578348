using System.Runtime.InteropServices;

namespace GpuInfo.Formats;

/// <summary>Small dense matrices (joint distributions, channels, distortions) read whole as float64.</summary>
public static class MatrixFile
{
    /// <summary>Reads a rank-1 or rank-2 numeric tensor as a <c>[rows, cols]</c> float64 matrix (rank 1 is one row).</summary>
    /// <exception cref="InvalidFileException">Unreadable, too large, or not rank 1 or 2.</exception>
    public static double[,] Read(string path, string? tensor = null)
    {
        var info = Shape(path, tensor, out long rows, out long cols);
        var m = new double[rows, cols];
        if (rows * cols > 0)
        {
            ReadInto(path, info, MemoryMarshal.CreateSpan(ref m[0, 0], (int)(rows * cols)));
        }

        return m;
    }

    /// <summary>As <see cref="Read"/>, row-major into one array (a joint's own storage: no second copy of a large one).</summary>
    internal static (double[] Values, int Rows, int Columns) ReadFlat(string path, string? tensor = null)
    {
        var info = Shape(path, tensor, out long rows, out long cols);
        var values = new double[rows * cols];
        if (values.Length > 0)
        {
            ReadInto(path, info, values);
        }

        return (values, (int)rows, (int)cols);
    }

    private static TensorInfo Shape(string path, string? tensor, out long rows, out long cols)
    {
        var info = TensorInfo.Open(path, tensor);
        if (info.Rank is not (1 or 2))
        {
            throw new InvalidFileException(path, $"expected a vector or a matrix; the shape is {info.ShapeText}.");
        }

        rows = info.Rank == 2 ? info.Shape[0] : 1;
        cols = info.Shape[^1];
        if (rows * cols > 1L << 28)
        {
            throw new InvalidFileException(path, $"matrix {info.ShapeText} is too large (limit 2^28 entries).");
        }

        return info;
    }

    private static void ReadInto(string path, TensorInfo info, Span<double> flat)
    {
        using var file = FileAccess.OpenRead(path);
        if (info.DType == DType.Float64)
        {
            // Straight into the destination: a 1.6 GB joint took a second copy and its page faults before.
            for (int start = 0; start < flat.Length; start += 1 << 26)
            {
                var piece = flat.Slice(start, Math.Min(1 << 26, flat.Length - start));
                FileAccess.ReadExactly(file, MemoryMarshal.AsBytes(piece), info.DataOffset + (8L * start), path);
            }

            return;
        }

        var raw = new byte[info.ByteLength];
        FileAccess.ReadExactly(file, raw, info.DataOffset, path);
        switch (info.DType)
        {
            case DType.Float32:
                Widen(MemoryMarshal.Cast<byte, float>(raw), flat, v => v);
                break;
            case DType.Float16:
                Widen(MemoryMarshal.Cast<byte, Half>(raw), flat, v => (double)v);
                break;
            case DType.BFloat16:
                Widen(MemoryMarshal.Cast<byte, ushort>(raw), flat, v => BFloat16Bits.ToSingle(v));
                break;
            case DType.Int32:
                Widen(MemoryMarshal.Cast<byte, int>(raw), flat, v => v);
                break;
            default:
                Widen(MemoryMarshal.Cast<byte, long>(raw), flat, v => v);
                break;
        }
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<double> destination, Func<T, double> convert)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = convert(source[i]);
        }
    }
}
