using GpuInfo.Benchmarking;
using GpuInfo.Samples;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// <c>gpuinfo bench</c>'s library half in each 16-bit type: the SIMD path checked against float64 on
/// sampled rows, an ILGPU device against the SIMD path on every row, both reading the converted
/// inputs in place.
/// </summary>
public sealed class AcceleratorBenchmarkTests
{
    [Theory]
    [InlineData("cpu", ScalarType.BFloat16, "float64 on 16 sampled rows")]
    [InlineData("cpu", ScalarType.Float16, "float64 on 16 sampled rows")]
    [InlineData("ilgpu-cpu", ScalarType.BFloat16, "SIMD CPU path on every row")]
    public void Every_op_is_verified_in_the_type_it_ran(string device, ScalarType type, string verification)
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var data = SampleLogits.Create(5, 1037, seed: Random.Shared.Next());
        var report = AcceleratorBenchmark.Run(engine, data, type, warmups: 0, repeats: 1);
        Assert.Equal(verification, report.Verification);
        Assert.Equal(AcceleratorBenchmark.Ops, report.Ops.Select(o => o.Op));
        Assert.All(report.Ops, op => Assert.InRange(op.MaxRelativeError, 0, 1e-4));
        Assert.Equal(5L * 1037 * 2, report.Ops[0].Bytes);
    }
}
