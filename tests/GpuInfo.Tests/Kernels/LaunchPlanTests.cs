using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Kernels;

/// <summary>The launch configuration chosen from what a device reports, for an H100/H200 and for a small GPU.</summary>
public sealed class LaunchPlanTests
{
    // H100/H200: 132 SMs, 2048 resident threads each, groups of up to 1024, warps of 32.
    private static readonly DeviceShape Hopper = new(32, 1024, 132, 2048);

    // A small GPU: 16 SMs of 1536 threads.
    private static readonly DeviceShape Small = new(32, 1024, 16, 1536);

    [Fact]
    public void A_hopper_runs_groups_of_512_and_splits_few_rows()
    {
        var plan = new LaunchPlan(Hopper);
        Assert.Equal(512, plan.GroupSize); // capped by the kernels' shared memory (GroupMerge.MaxGroupSize)
        Assert.Equal(132 * 4, plan.ResidentGroups);
        Assert.Equal(1, plan.SplitCount(4096, 128256)); // 4096 rows fill 528 resident groups twice over
        Assert.Equal(17, plan.SplitCount(64, 256000)); // ceil(1056 / 64) slices, each 15k columns
        Assert.Equal(15, plan.SplitCount(1, 128256)); // one row: as many 8192-column slices as fit
    }

    [Fact]
    public void A_small_gpu_needs_fewer_slices()
    {
        var plan = new LaunchPlan(Small);
        Assert.Equal(512, plan.GroupSize);
        Assert.Equal(16 * 3, plan.ResidentGroups);
        Assert.Equal(1, plan.SplitCount(96, 128256));
        Assert.Equal(2, plan.SplitCount(64, 256000));
    }

    [Theory]
    [InlineData(4, 16, 16)] // ILGPU's default CPU accelerator: warps of 4, groups of 16
    [InlineData(64, 1024, 512)] // AMD-like: warps of 64
    [InlineData(32, 256, 256)] // a device allowing only 256 threads a group
    [InlineData(32, 500, 480)] // a limit that is not a whole number of warps
    [InlineData(4, 1024, 128)] // warps of 4: at most GroupMerge.MaxWarps of them (their sums' slots)
    public void Groups_are_whole_warps_within_the_devices_limit(int warp, int maxGroup, int expected) =>
        Assert.Equal(expected, new LaunchPlan(new DeviceShape(warp, maxGroup, 4, 2048)).GroupSize);
}
