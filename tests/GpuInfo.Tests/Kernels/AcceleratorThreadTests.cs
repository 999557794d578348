using GpuInfo.Backends.Ilgpu;
using GpuInfo.Tests.Measures;
using ILGPU.Runtime;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The accelerator from threads that did not create it (the corpus's consumers, the thread pool): a
/// CUDA context is current per thread, and ILGPU binds it for copies, launches and allocations but
/// not to free a buffer. <see cref="IlgpuBackend.Use"/> binds it for everything done under it.
/// </summary>
public abstract class AcceleratorThreadTests(EngineFixture fixture)
{
    [Fact]
    public void Use_makes_the_accelerator_current_on_a_fresh_thread()
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        Accelerator? seen = null;
        OnFreshThread(() =>
        {
            using (backend.Use())
            {
                seen = Accelerator.Current;
            }
        });
        Assert.Same(backend.Accelerator, seen);
    }

    [Fact]
    public void A_buffer_grown_and_freed_on_fresh_threads_keeps_working()
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        var values = Enumerable.Range(0, 4096).Select(i => (float)i).ToArray();
        DeviceArena? arena = null;
        OnFreshThread(() =>
        {
            using (backend.Use())
            {
                arena = new DeviceArena(backend.Accelerator);
                arena.Get<float>("x", 16).CopyFromCPU(values.AsSpan(0, 16));
            }
        });

        var back = new float[values.Length];
        OnFreshThread(() =>
        {
            // Growing frees the old buffer first: on CUDA, cuMemFree on a thread with no current context.
            using (backend.Use())
            {
                var view = arena!.Get<float>("x", values.Length);
                view.CopyFromCPU(values);
                view.CopyToCPU(back);
            }
        });
        Assert.Equal(values, back);
        OnFreshThread(() =>
        {
            using (backend.Use())
            {
                arena!.Dispose();
            }
        });
    }

    private static void OnFreshThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("failed on a fresh thread", failure);
        }
    }
}

public sealed class IlgpuCpuAcceleratorThreadTests(IlgpuCpuFixture f) : AcceleratorThreadTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaAcceleratorThreadTests(CudaFixture f) : AcceleratorThreadTests(f), IClassFixture<CudaFixture>;
