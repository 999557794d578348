using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuInfo.Kernels;

/// <summary>
/// Merges per-thread statistics across a thread group with ILGPU.Algorithms reductions. The result is
/// valid in the group's first thread. Every thread of the group must call these (they hold barriers).
/// </summary>
public static class GroupMerge
{
    public static SoftmaxAccumulator Softmax(SoftmaxAccumulator a)
    {
        float m = GroupExtensions.AllReduce<float, MaxFloat>(a.Max);
        float c = SoftmaxMath.Rescale(a.Max, m);
        float s = a.SumExp * c;
        float t = SoftmaxMath.RescaleEntropy(a.EntropyAcc, a.SumExp, a.Max, m, c);
        float v = SoftmaxMath.RescaleWeighted(a.ValueAcc, c);
        SoftmaxAccumulator r;
        r.Max = m;
        r.SumExp = GroupExtensions.Reduce<float, AddFloat>(s);
        r.EntropyAcc = GroupExtensions.Reduce<float, AddFloat>(t);
        r.ValueAcc = GroupExtensions.Reduce<float, AddFloat>(v);
        return r;
    }

    public static ArgMaxTracker Top(ArgMaxTracker a)
    {
        float best = GroupExtensions.AllReduce<float, MaxFloat>(a.Value);
        int index = GroupExtensions.Reduce<int, MinInt32>(a.Value == best ? a.Index : int.MaxValue);
        return new ArgMaxTracker { Value = best, Index = index };
    }

    public static float Sum(float value) => GroupExtensions.Reduce<float, AddFloat>(value);
}
