using GpuInfo.Backends.Cpu;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Measures;

/// <summary>Forces a backend's split-vocabulary path or ILGPU chunking for the duration of a test.</summary>
internal static class BackendKnobs
{
    public static IDisposable ForceSplits(InfoEngine engine, int splits)
    {
        switch (engine.Backend)
        {
            case SimdCpuBackend cpu:
                cpu.ForcedSplits = splits;
                return new Reset(() => cpu.ForcedSplits = null);
            case IlgpuBackend gpu:
                gpu.ForcedSplits = splits;
                return new Reset(() => gpu.ForcedSplits = null);
            default:
                throw new InvalidOperationException("unknown backend");
        }
    }

    public static IDisposable ForceChunkRows(InfoEngine engine, long rows)
    {
        var gpu = (IlgpuBackend)engine.Backend;
        gpu.ForcedChunkRows = rows;
        return new Reset(() => gpu.ForcedChunkRows = null);
    }

    private sealed class Reset(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
