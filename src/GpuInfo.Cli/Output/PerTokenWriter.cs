using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Writes a corpus run's per-row values (float32) into a .npy file whose length is known up front,
/// each chunk at its own offset (several devices finish chunks out of order); the file takes the path
/// once the run completes (<see cref="Commit"/>), so a failed run leaves no file of rows never written.
/// </summary>
internal sealed class PerTokenWriter : IDisposable
{
    private readonly AtomicFile.Pending _file;
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
            _file = AtomicFile.Open(path, bufferSize: 0);
            _file.Run(() => NpyFormat.WriteHeader(_file.Stream, "<f4", [count]));
            _dataOffset = _file.Stream.Position;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _file?.Dispose();
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    public static PerTokenWriter? Create(string? path, long firstRow, long count) => path is null ? null : new PerTokenWriter(path, firstRow, count);

    public RowValuesHandler Handler => (firstRow, values) =>
    {
        try
        {
            RandomAccess.Write(_file.Stream.SafeFileHandle, MemoryMarshal.AsBytes(values), _dataOffset + ((firstRow - _firstRow) * sizeof(float)));
        }
        catch (IOException e)
        {
            throw CliException.Usage($"{_path}: cannot write: {e.Message}");
        }
    };

    /// <summary>The run completed: the file takes its path.</summary>
    public void Commit()
    {
        try
        {
            _file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{_path}: cannot write: {e.Message}");
        }
    }

    public void Dispose() => _file.Dispose();
}
