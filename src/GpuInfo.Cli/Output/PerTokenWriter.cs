using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Output;

/// <summary>Streams a corpus run's per-row values (float32) into a .npy file whose length is known up front.</summary>
internal sealed class PerTokenWriter : IDisposable
{
    private readonly FileStream _stream;

    private PerTokenWriter(string path, long count)
    {
        try
        {
            _stream = File.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }

        NpyFormat.WriteHeader(_stream, "<f4", [count]);
    }

    public static PerTokenWriter? Create(string? path, long count) => path is null ? null : new PerTokenWriter(path, count);

    public RowValuesHandler Handler => (_, values) => _stream.Write(MemoryMarshal.AsBytes(values));

    public void Dispose() => _stream.Dispose();
}
