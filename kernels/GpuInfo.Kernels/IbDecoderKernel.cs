using ILGPU;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuInfo.Kernels;

/// <summary>
/// The IB decoder update on the device, one group per cluster t: log q(y|t) = ln(q(t, y) / q(t)) in
/// float32 for the next iteration's cross-term products (log 0 as -1e30, finite, so that 0·log 0
/// stays 0 in a product), and the cluster's share of I(T;Y), Σ_y q(t, y)·(ln q(y|t) − ln p(y)), in
/// float64 (q(t, y) = 0 adds nothing).
/// </summary>
public static class IbDecoderKernel
{
    public static void Update(ArrayView<double> numerator, ArrayView<double> qt, ArrayView<double> logPy, ArrayView<float> logDecoder, ArrayView<double> terms, int vocab)
    {
        int t = Grid.IdxX;
        long offset = (long)t * vocab;
        double q = qt[t];
        double acc = 0;
        for (int j = Group.IdxX; j < vocab; j += Group.DimX)
        {
            double n = numerator[offset + j];
            if (n > 0)
            {
                double log = DoubleMath.Log(n / q);
                logDecoder[offset + j] = (float)log;
                acc += n * (log - logPy[j]);
            }
            else
            {
                logDecoder[offset + j] = -1e30f;
            }
        }

        acc = GroupMerge.OrderedSum<double, AddDouble>(acc);
        if (Group.IdxX == 0)
        {
            terms[t] = acc;
        }
    }
}
