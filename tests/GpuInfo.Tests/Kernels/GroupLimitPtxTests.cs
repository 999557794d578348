using GpuInfo.Backends.Ilgpu;
using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The kernels launched in the launch plan's groups (up to 512 threads) carry their group size as
/// PTX <c>.maxntid</c>, so that the driver's JIT, not only the offline ptxas, keeps within the 128
/// registers a thread such a group may have; the tile kernels (256 threads, always launchable) and the
/// auto-grouped ones (ILGPU sizes their groups from the compiled kernel) carry none.
/// </summary>
public sealed class GroupLimitPtxTests
{
    [Fact]
    public void Plan_grouped_kernels_declare_their_largest_group()
    {
        var grouping = KernelCatalog.All().ToDictionary(e => (e.Name, e.DTypes), e => e.Grouping);
        var kernels = PtxCompiler.Compile("sm_90");
        Assert.Contains(kernels, k => grouping[(k.Name, k.DTypes)] == KernelCatalog.Grouping.Plan);
        foreach (var k in kernels)
        {
            string? limit = PtxCompiler.Directive(k.Ptx, ".maxntid");
            string expected = grouping[(k.Name, k.DTypes)] == KernelCatalog.Grouping.Plan ? $"{GroupMerge.MaxGroupSize}, 1, 1" : "none";
            Assert.True(expected == (limit ?? "none"), $"{k.Name} {k.DTypes}: .maxntid {limit ?? "none"}, expected {expected}");
        }
    }

    [Fact]
    public void The_plan_compiles_its_kernels_for_its_own_group_size()
    {
        var h100 = new LaunchPlan(new DeviceShape(32, 1024, 132, 2048));
        Assert.Equal(512, h100.Specialization.MaxNumThreadsPerGroup);
        var small = new LaunchPlan(new DeviceShape(32, 256, 4, 1024));
        Assert.Equal(256, small.Specialization.MaxNumThreadsPerGroup);
    }
}
