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
    private readonly long _dataOffset;
    private readonly long _firstRow;

    private PerTokenWriter(string path, long firstRow, long count)
    {
        OutputFile.Check(path);
        try
        {
            _stream = File.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }

        NpyFormat.WriteHeader(_stream, "<f4", [count]);
        _stream.Flush();
        _dataOffset = _stream.Position;
        _firstRow = firstRow;
    }

    public static PerTokenWriter? Create(string? path, long firstRow, long count) => path is null ? null : new PerTokenWriter(path, firstRow, count);

    public RowValuesHandler Handler => (firstRow, values) =>
        RandomAccess.Write(_stream.SafeFileHandle, MemoryMarshal.AsBytes(values), _dataOffset + ((firstRow - _firstRow) * sizeof(float)));

    public void Dispose() => _stream.Dispose();
}
