using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Writes a corpus run's per-row values (float32) into a .npy file whose length is known up front,
/// each chunk at its own offset (several devices finish chunks out of order).
/// </summary>
internal sealed class PerTokenWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;
    private readonly long _dataOffset;
    private readonly long _firstRow;

    private PerTokenWriter(string path, long firstRow, long count)
    {
        OutputFile.Check(path);
        _path = path;
        _firstRow = firstRow;
        try
        {
            // Unbuffered: the header is one write, the rows go by RandomAccess, and a failed write leaves nothing for Dispose to retry.
            _stream = new FileStream(path, FileMode.Create, System.IO.FileAccess.Write, FileShare.Read, bufferSize: 0);
            NpyFormat.WriteHeader(_stream, "<f4", [count]);
            _stream.Flush();
            _dataOffset = _stream.Position;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _stream?.Dispose();
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    public static PerTokenWriter? Create(string? path, long firstRow, long count) => path is null ? null : new PerTokenWriter(path, firstRow, count);

    public RowValuesHandler Handler => (firstRow, values) =>
    {
        try
        {
            RandomAccess.Write(_stream.SafeFileHandle, MemoryMarshal.AsBytes(values), _dataOffset + ((firstRow - _firstRow) * sizeof(float)));
        }
        catch (IOException e)
        {
            throw CliException.Usage($"{_path}: cannot write: {e.Message}");
        }
    };

    public void Dispose() => _stream.Dispose();
}
