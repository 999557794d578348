using GpuInfo.Formats;

namespace GpuInfo.Cli.Streaming;

/// <summary>Streams one float32 per row into a .npy file (header first, shape known up front).</summary>
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

    /// <summary>Writes values; rows whose target is <see cref="TargetPlan.Dropped"/> are written as NaN.</summary>
    public void Write(ReadOnlySpan<float> values, ReadOnlySpan<long> targets = default)
    {
        Span<float> buffer = stackalloc float[1024];
        for (int i = 0; i < values.Length; i += buffer.Length)
        {
            int n = Math.Min(buffer.Length, values.Length - i);
            for (int k = 0; k < n; k++)
            {
                buffer[k] = !targets.IsEmpty && targets[i + k] == TargetPlan.Dropped ? float.NaN : values[i + k];
            }

            _stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer[..n]));
        }
    }

    public void Dispose() => _stream.Dispose();
}
