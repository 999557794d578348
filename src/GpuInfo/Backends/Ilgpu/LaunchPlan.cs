using GpuInfo.Kernels;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>What the launch configuration depends on: what an accelerator reports about itself.</summary>
internal readonly record struct DeviceShape(int WarpSize, int MaxThreadsPerGroup, int Multiprocessors, int MaxThreadsPerMultiprocessor);

/// <summary>
/// How the row kernels are launched on a device of a given <see cref="DeviceShape"/>: the group size
/// (a whole number of warps, at most the device's limit, the kernels' shared-memory capacity
/// <see cref="GroupMerge.MaxGroupSize"/> and <see cref="GroupMerge.MaxWarps"/> warps), and how many vocabulary slices a row is split into so
/// that every multiprocessor has groups in flight when rows are few.
/// </summary>
internal sealed class LaunchPlan(DeviceShape shape)
{
    public DeviceShape Shape { get; } = shape;

    public int GroupSize { get; } = Math.Max(shape.WarpSize, WholeWarps(Math.Min(Math.Min(shape.MaxThreadsPerGroup, GroupMerge.MaxGroupSize), GroupMerge.MaxWarps * shape.WarpSize), shape.WarpSize));

    /// <summary>
    /// How the kernels launched with <see cref="GroupSize"/> threads are compiled: with that as their
    /// PTX <c>.maxntid</c>, so that the driver's JIT keeps to the registers a group that size can
    /// have (128 a thread for 512). Without it the JIT may take more, and the launch would fail on the
    /// device (ptxas 11.8 needs at most 72, but the driver's compiler is another version).
    /// </summary>
    public KernelSpecialization Specialization => new(GroupSize, null);

    private static int WholeWarps(int threads, int warp) => threads - (threads % warp);

    /// <summary>Groups the device holds at once: every multiprocessor full.</summary>
    public long ResidentGroups => (long)Shape.Multiprocessors * Math.Max(1, Shape.MaxThreadsPerMultiprocessor / GroupSize);

    /// <summary>Vocabulary slices per row: 1 when rows fill the device twice over, else enough to, but no slice under 16 elements a thread.</summary>
    public int SplitCount(long rows, int vocab)
    {
        long wanted = 2 * Math.Max(1, ResidentGroups);
        if (rows >= wanted)
        {
            return 1;
        }

        int byWork = (int)((wanted + rows - 1) / rows);
        int byWidth = Math.Max(1, vocab / (GroupSize * 16));
        return Math.Max(1, Math.Min(byWork, byWidth));
    }
}
