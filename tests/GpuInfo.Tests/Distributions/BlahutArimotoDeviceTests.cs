using GpuInfo.Tests.Measures;

namespace GpuInfo.Tests.Distributions;

/// <summary>
/// Blahut-Arimoto through <see cref="InfoEngine"/> on each device: the iteration is shared, only the
/// pass over the matrix moves (ILGPU: float64 row-dot and column-sum kernels), so a fixed number of
/// iterations gives the CPU's results to 1e-12 relative. Small shapes: ILGPU's CPU accelerator is slow.
/// </summary>
public abstract class BlahutArimotoDeviceTests(EngineFixture fixture)
{
    /// <summary>Whether the engine runs the pass on an ILGPU accelerator.</summary>
    protected virtual bool OnAccelerator => true;

    /// <summary>203 outputs (no multiple of any group size), zero entries, and an output (17) no input reaches.</summary>
    [Fact]
    public void Capacity_matches_the_cpu_at_a_fixed_iteration_count()
    {
        var rng = new Random(11);
        int nx = 11, ny = 203;
        var w = new double[nx, ny];
        for (int i = 0; i < nx; i++)
        {
            double sum = 0;
            for (int j = 0; j < ny; j++)
            {
                sum += w[i, j] = j == 17 || rng.Next(4) == 0 ? 0 : Math.Pow(rng.NextDouble(), 4);
            }

            for (int j = 0; j < ny; j++)
            {
                w[i, j] /= sum;
            }
        }

        var cpu = BlahutArimoto.Capacity(w, tolerance: 0, maxIterations: 10);
        var got = fixture.Engine.ChannelCapacity(w, tolerance: 0, maxIterations: 10);
        AssertSame(cpu, got);
    }

    /// <summary>
    /// An output reached only through W = 1e-300 from an input whose r(x) halves each iteration: its
    /// q(y) underflows to 0 within 120 iterations, and those iterations take its ln q in log space.
    /// </summary>
    [Fact]
    public void Capacity_matches_the_cpu_when_an_output_loses_its_mass()
    {
        var engine = fixture.Engine;
        var w = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0.5, 0.5 - 1e-300, 1e-300 } };
        var cpu = BlahutArimoto.Capacity(w, tolerance: 0, maxIterations: 120);
        Assert.True(cpu.Input[2] * 1e-300 == 0, $"r(2) = {cpu.Input[2]}: the output has not lost its mass");
        var got = engine.ChannelCapacity(w, tolerance: 0, maxIterations: 120);
        AssertSame(cpu, got);
    }

    /// <summary>70 reproductions, a p(x) = 0 row, and a row 300 above the rest (e^(-βd) 0 without its shift).</summary>
    [Fact]
    public void Rate_distortion_matches_the_cpu_at_a_fixed_iteration_count()
    {
        var rng = new Random(5);
        int nx = 13, nh = 70;
        double beta = 3.1;
        var p = Enumerable.Range(0, nx).Select(i => i == 7 ? 0 : rng.NextDouble()).ToArray();
        var d = new double[nx, nh];
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < nh; j++)
            {
                d[i, j] = (i == 3 ? 300 : 0) + (5 * rng.NextDouble());
            }
        }

        var cpu = BlahutArimoto.RateDistortion(p, d, beta, tolerance: 0, maxIterations: 8);
        var got = fixture.Engine.RateDistortion(p, d, beta, tolerance: 0, maxIterations: 8);
        AssertSame(cpu, got);
    }

    /// <summary>
    /// A source symbol of p = 1e-300 whose only near reproduction no other symbol uses: its q falls to
    /// ~1e-300 and the row's Z under 1e-290, so the row is taken in log space (on the host) after the pass.
    /// </summary>
    [Fact]
    public void Rate_distortion_matches_the_cpu_with_a_log_space_row()
    {
        var rng = new Random(3);
        int nx = 6, nh = 37;
        var p = Enumerable.Range(0, nx).Select(i => i == 0 ? 1e-300 : rng.NextDouble()).ToArray();
        var d = new double[nx, nh];
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < nh; j++)
            {
                d[i, j] = i == 0 ? (j == 0 ? 0 : 1000) : j == 0 ? 1000 : 5 * rng.NextDouble();
            }
        }

        var cpu = BlahutArimoto.RateDistortion(p, d, 1.0, tolerance: 0, maxIterations: 10);
        Assert.InRange(cpu.Reproduction[0], 1e-301, 1e-290);
        var got = fixture.Engine.RateDistortion(p, d, 1.0, tolerance: 0, maxIterations: 10);
        AssertSame(cpu, got);
    }

    /// <summary>A matrix over the device's memory is the device's error (exit code 4 in the CLI), before any upload.</summary>
    [Fact]
    public void A_matrix_too_large_for_the_device_is_a_device_error()
    {
        var engine = fixture.Engine;
        Assert.SkipUnless(OnAccelerator, "the CPU pass has no device memory.");
        var w = new double[,] { { 0.9, 0.1 }, { 0.1, 0.9 } };
        engine.BlahutArimotoDeviceBytes = 64;
        try
        {
            var e = Assert.Throws<DeviceUnavailableException>(() => engine.ChannelCapacity(w));
            Assert.Contains("device memory", e.Message, StringComparison.Ordinal);
            Assert.Throws<DeviceUnavailableException>(() => engine.RateDistortion([0.5, 0.5], w, 1));
        }
        finally
        {
            engine.BlahutArimotoDeviceBytes = null;
        }

        Assert.Equal(1 - ClosedForms.H2(0.1), engine.ChannelCapacity(w).CapacityBits, 1e-9);
    }

    private void AssertSame(CapacityResult cpu, CapacityResult got)
    {
        AssertProducts(got.Products);
        Assert.Equal(cpu.Iterations, got.Iterations);
        Close(cpu.LowerBoundBits, got.LowerBoundBits, "lower bound");
        Close(cpu.UpperBoundBits, got.UpperBoundBits, "upper bound");
        for (int i = 0; i < cpu.Input.Length; i++)
        {
            Close(cpu.Input[i], got.Input[i], $"r[{i}]");
        }
    }

    private void AssertSame(RateDistortionResult cpu, RateDistortionResult got)
    {
        AssertProducts(got.Products);
        Assert.Equal(cpu.Iterations, got.Iterations);
        Close(cpu.RateBits, got.RateBits, "rate");
        Close(cpu.Distortion, got.Distortion, "distortion");
        Close(cpu.LowerBoundBits, got.LowerBoundBits, "lower bound");
        for (int j = 0; j < cpu.Reproduction.Length; j++)
        {
            Close(cpu.Reproduction[j], got.Reproduction[j], $"q[{j}]");
        }
    }

    private void AssertProducts(string products)
    {
        if (OnAccelerator)
        {
            Assert.EndsWith(", float64 kernels", products, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("cpu, float64 SIMD", products);
        }
    }

    private void Close(double expected, double actual, string what)
    {
        if (!OnAccelerator)
        {
            Assert.Equal(expected, actual);
            return;
        }

        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(Math.Abs(expected), Math.Abs(actual)),
            $"{fixture.Device}: {what} {actual}, cpu {expected}");
    }
}

/// <summary>The "cpu" engine runs the static methods' pass: the same bits.</summary>
public sealed class SimdCpuBlahutArimotoDeviceTests(SimdCpuFixture f) : BlahutArimotoDeviceTests(f), IClassFixture<SimdCpuFixture>
{
    protected override bool OnAccelerator => false;
}

public sealed class IlgpuCpuBlahutArimotoDeviceTests(IlgpuCpuFixture f) : BlahutArimotoDeviceTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class IlgpuCpuNvidiaBlahutArimotoDeviceTests(IlgpuCpuNvidiaFixture f) : BlahutArimotoDeviceTests(f), IClassFixture<IlgpuCpuNvidiaFixture>;

public sealed class CudaBlahutArimotoDeviceTests(CudaFixture f) : BlahutArimotoDeviceTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClBlahutArimotoDeviceTests(OpenClFixture f) : BlahutArimotoDeviceTests(f), IClassFixture<OpenClFixture>;
