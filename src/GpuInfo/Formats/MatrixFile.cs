using System.Runtime.InteropServices;

namespace GpuInfo.Formats;

/// <summary>Small dense matrices (joint distributions, channels, distortions) read whole as float64.</summary>
public static class MatrixFile
{
    /// <summary>Reads a rank-1 or rank-2 numeric tensor as a <c>[rows, cols]</c> float64 matrix (rank 1 is one row).</summary>
    /// <exception cref="InvalidFileException">Unreadable, too large, or not rank 1 or 2.</exception>
    public static double[,] Read(string path, string? tensor = null)
    {
        var info = TensorInfo.Open(path, tensor);
        if (info.Rank is not (1 or 2))
        {
            throw new InvalidFileException(path, $"expected a vector or a matrix; the shape is {info.ShapeText}.");
        }

        long rows = info.Rank == 2 ? info.Shape[0] : 1;
        long cols = info.Shape[^1];
        if (rows * cols > 1L << 28)
        {
            throw new InvalidFileException(path, $"matrix {info.ShapeText} is too large (limit 2^28 entries).");
        }

        var raw = new byte[info.ByteLength];
        using (var file = FileAccess.OpenRead(path))
        {
            FileAccess.ReadExactly(file, raw, info.DataOffset, path);
        }

        var m = new double[rows, cols];
        var flat = MemoryMarshal.CreateSpan(ref m[0, 0], (int)(rows * cols));
        if (rows * cols == 0)
        {
            return m;
        }

        switch (info.DType)
        {
            case DType.Float64:
                MemoryMarshal.Cast<byte, double>(raw).CopyTo(flat);
                break;
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

        return m;
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<double> destination, Func<T, double> convert)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = convert(source[i]);
        }
    }
}
