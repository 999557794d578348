using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// Named device buffers that grow on demand and are reused across calls, so steady-state calls
/// allocate nothing on the device. One arena per stream for double buffering.
/// </summary>
internal sealed class DeviceArena(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<string, MemoryBuffer1D<byte, Stride1D.Dense>> _buffers = [];

    public ArrayView<T> Get<T>(string name, long count)
        where T : unmanaged
    {
        long bytes = Math.Max(1, count) * Interop.SizeOf<T>();
        if (!_buffers.TryGetValue(name, out var buffer) || buffer.Length < bytes)
        {
            long grown = buffer is null ? bytes : Math.Max(bytes, buffer.Length + buffer.Length / 2);
            buffer?.Dispose();
            buffer = accelerator.Allocate1D<byte>(grown);
            _buffers[name] = buffer;
        }

        return buffer.View.AsContiguous().Cast<T>().SubView(0, count);
    }

    /// <summary>Uploads <paramref name="count"/> elements from host memory into the named buffer.</summary>
    public unsafe ArrayView<T> Upload<T>(string name, AcceleratorStream stream, nint source, long count)
        where T : unmanaged
    {
        var view = Get<T>(name, count);
        if (count > 0)
        {
            view.CopyFromCPU(stream, ref *(T*)source, count);
        }

        return view;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values)
        {
            buffer.Dispose();
        }

        _buffers.Clear();
    }
}
