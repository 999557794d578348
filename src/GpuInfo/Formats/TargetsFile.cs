using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Formats;

/// <summary>Integer targets in a file, <c>[N]</c> or <c>[B, T]</c>, read by ranges as int64.</summary>
public sealed class TargetsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private byte[] _raw = [];

    private TargetsFile(TensorInfo info, SafeFileHandle handle)
    {
        Info = info;
        _handle = handle;
        Count = info.ElementCount;
    }

    public TensorInfo Info { get; }

    public string Path => Info.Path;

    public long Count { get; }

    /// <exception cref="InvalidFileException">Not a readable integer tensor.</exception>
    /// <param name="role">What the integers are, for errors: "targets", "token ids", "byte counts".</param>
    public static TargetsFile Open(string path, string? tensor = null, string role = "targets")
    {
        var info = TensorInfo.Open(path, tensor);
        if (info.DType is not (DType.Int32 or DType.Int64))
        {
            throw new InvalidFileException(path, $"{role} must be integers (I32 or I64); this tensor is {info.DType.SafetensorsName()}.");
        }

        if (info.Rank is not (1 or 2))
        {
            throw new InvalidFileException(path, $"{role} must be [N] or [B, T]; the shape is {info.ShapeText}.");
        }

        return new TargetsFile(info, File.OpenHandle(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, FileOptions.SequentialScan));
    }

    /// <summary>Reads targets [first, first + destination.Length).</summary>
    public void Read(long first, Span<long> destination)
    {
        int size = Info.DType.Size();
        int bytes = destination.Length * size;
        if (_raw.Length < bytes)
        {
            _raw = new byte[bytes];
        }

        FileAccess.ReadExactly(_handle, _raw.AsSpan(0, bytes), Info.DataOffset + first * size, Path);
        if (Info.DType == DType.Int64)
        {
            MemoryMarshal.Cast<byte, long>(_raw.AsSpan(0, bytes)).CopyTo(destination);
        }
        else
        {
            var ints = MemoryMarshal.Cast<byte, int>(_raw.AsSpan(0, bytes));
            for (int i = 0; i < ints.Length; i++)
            {
                destination[i] = ints[i];
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
