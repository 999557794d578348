namespace GpuInfo.Tests.Measures;

/// <summary>One engine per backend for a whole test class (ILGPU compiles kernels once per engine).</summary>
public abstract class EngineFixture : IDisposable
{
    private readonly Lazy<(InfoEngine? Engine, string? Reason)> _engine;

    protected EngineFixture(string device, Action<InfoEngine>? configure = null)
    {
        Device = device;
        _engine = new(() =>
        {
            try
            {
                var engine = new InfoEngine(new InfoEngineOptions { Device = device });
                configure?.Invoke(engine);
                return (engine, null);
            }
            catch (DeviceUnavailableException e)
            {
                return (null, $"no {device} device here: {e.Message}");
            }
        });
    }

    public string Device { get; }

    /// <summary>The engine, or a skip (with the reason) when this machine lacks the device.</summary>
    public InfoEngine Engine
    {
        get
        {
            Assert.SkipWhen(_engine.Value.Engine is null, _engine.Value.Reason ?? "no engine");
            return _engine.Value.Engine!;
        }
    }

    public void Dispose()
    {
        if (_engine.IsValueCreated)
        {
            _engine.Value.Engine?.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class SimdCpuFixture() : EngineFixture("cpu");

/// <summary>The SIMD path on 8 lanes: what machines without AVX-512 run (here too, whatever this CPU has).</summary>
public sealed class SimdCpu8LaneFixture() : EngineFixture("cpu", engine => ((Backends.Cpu.SimdCpuBackend)engine.Backend).WideLanes = false);

public sealed class IlgpuCpuFixture() : EngineFixture("ilgpu-cpu");

public sealed class CudaFixture() : EngineFixture("cuda");

public sealed class OpenClFixture() : EngineFixture("opencl");

/// <summary>ILGPU's CPU accelerator shaped like an NVIDIA GPU (warp 32, large groups): the GPU launch shapes without a GPU.</summary>
public sealed class IlgpuCpuNvidiaFixture() : EngineFixture("ilgpu-cpu:nvidia");
