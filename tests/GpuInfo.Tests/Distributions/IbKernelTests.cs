using GpuInfo.Backends.Ilgpu;
using GpuInfo.Tests.Measures;

namespace GpuInfo.Tests.Distributions;

/// <summary>The batched IB products as ILGPU kernels (CPU accelerator in CI; CUDA/OpenCL when present) against float64.</summary>
public abstract class IbKernelTests(EngineFixture fixture)
{
    [Fact]
    public void Products_match_float64()
    {
        var engine = fixture.Engine;
        var joint = InformationBottleneckTests.RandomJoint(37, 53, 17);
        using var gpu = new IlgpuIbProducts((IlgpuBackend)engine.Backend, joint);
        using var cpu = new CpuIbProducts(joint);
        var rng = new Random(3);
        int t = 5;
        var logDecoder = Enumerable.Range(0, t * joint.Y).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        logDecoder[7] = -1e300;
        var encoderT = Enumerable.Range(0, t * joint.X).Select(_ => rng.NextDouble()).ToArray();
        var (a, b) = (new double[joint.X * t], new double[joint.X * t]);
        gpu.CrossTerms(logDecoder, t, a);
        cpu.CrossTerms(logDecoder, t, b);
        for (int i = 0; i < a.Length; i++)
        {
            // log 0 is -1e300 in float64 and -1e30 in float32: both make q(t|x) exactly 0 downstream.
            bool floored = b[i] < -1e20;
            Assert.True(floored ? a[i] < -1e20 : Math.Abs(a[i] - b[i]) <= 1e-5 * (1 + Math.Abs(b[i])), $"cross term {i}: {a[i]} vs {b[i]}");
        }

        var (c, d) = (new double[t * joint.Y], new double[t * joint.Y]);
        gpu.DecoderNumerator(encoderT, t, c);
        cpu.DecoderNumerator(encoderT, t, d);
        for (int i = 0; i < c.Length; i++)
        {
            Assert.True(Math.Abs(c[i] - d[i]) <= 1e-6 * (1 + Math.Abs(d[i])), $"decoder numerator {i}: {c[i]} vs {d[i]}");
        }
    }

    /// <summary>
    /// A joint of more x than the device's grid holds tiles along y (65535 on CUDA: ~1M) runs its
    /// products in several launches; with the limit at one tile each tile of rows is its own launch,
    /// and the products are the same bits.
    /// </summary>
    [Fact]
    public void Products_run_in_several_launches_where_the_grid_is_short()
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        var joint = InformationBottleneckTests.RandomJoint(37, 53, 17);
        using var whole = new IlgpuIbProducts(backend, joint);
        using var split = new IlgpuIbProducts(backend, joint) { MaxGridRows = 1 };
        var rng = new Random(4);
        int t = 5;
        var logDecoder = Enumerable.Range(0, t * joint.Y).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        var encoderT = Enumerable.Range(0, t * joint.X).Select(_ => rng.NextDouble()).ToArray();
        var (a, b) = (new double[joint.X * t], new double[joint.X * t]);
        whole.CrossTerms(logDecoder, t, a);
        split.CrossTerms(logDecoder, t, b);
        Assert.Equal(a, b);
        var (c, d) = (new double[t * joint.Y], new double[t * joint.Y]);
        whole.DecoderNumerator(encoderT, t, c);
        split.DecoderNumerator(encoderT, t, d);
        Assert.Equal(c, d);
    }

    [Fact]
    public void An_ib_solve_on_the_device_matches_the_cpu_solve()
    {
        var engine = fixture.Engine;
        var joint = InformationBottleneckTests.RandomJoint(9, 14, 23);
        var options = new IbOptions { Beta = 6, Clusters = 4, Seed = 3, Tolerance = 1e-9 };
        using var cpu = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var expected = cpu.InformationBottleneck(joint, options);
        var actual = engine.InformationBottleneck(joint, options);
        Assert.Equal(expected.IxtBits, actual.IxtBits, 1e-4);
        Assert.Equal(expected.ItyBits, actual.ItyBits, 1e-4);
    }
}

public sealed class IlgpuCpuIbKernelTests(IlgpuCpuFixture f) : IbKernelTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaIbKernelTests(CudaFixture f) : IbKernelTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClIbKernelTests(OpenClFixture f) : IbKernelTests(f), IClassFixture<OpenClFixture>;
