using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuInfo.Kernels;

/// <summary>
/// Rows of logits (or probabilities) to float32 p(y|x) on the device, one group per row, threads
/// striding by the group size: softmax of z/T as e^((z − max z)·(1/T)) (max and Σ exp as group
/// reductions, the sum in float64, the same roundings as on the CPU), or a probability row divided by its sum. The rows were checked on the
/// host before (every row a distribution); a value that is not finite still never enters a
/// reduction, because ILGPU's float reductions can spin forever on NaN.
/// </summary>
public static class RowDistributionKernel
{
    public static void Run<T, TLoad>(ArrayView<T> rows, ArrayView<float> p, int vocab, float invT, int probabilities)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        long offset = (long)Grid.IdxX * vocab;
        float max = 0f;
        if (probabilities == 0)
        {
            float local = float.NegativeInfinity;
            for (int j = Group.IdxX; j < vocab; j += Group.DimX)
            {
                float z = default(TLoad).Load(rows[offset + j]);
                local = z > local && float.IsFinite(z) ? z : local;
            }

            max = GroupMerge.Max(local);
        }

        double sum = 0;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX)
        {
            float z = default(TLoad).Load(rows[offset + j]);
            float e = probabilities != 0 ? z : XMath.Exp((z - max) * invT);
            e = float.IsFinite(e) ? e : 0f;
            p[offset + j] = e;
            sum += e;
        }

        sum = GroupMerge.OrderedAllSum<double, AddDouble>(sum);
        float scale = sum > 0 ? (float)(1 / sum) : 0f;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX)
        {
            p[offset + j] *= scale;
        }
    }
}
