using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Writes the cross-entropy gradient of columns [begin, end) of one row, given the row's merged
/// softmax statistics: g_k = a·p_k - c·w_k - b·[k = y] (coefficients from
/// <see cref="SoftmaxMath.GradientCoefficients"/>), p_k = exp((x_k - max)/T - log s). Not exp(x_k/T - lse):
/// a float32 lse drops log s's digits when |lse| is large (see <see cref="CrossEntropyGradientKernel"/>).
/// The destination may be the float32 logits themselves (each block is read before it is written).
/// Invalid rows (non-finite lse) are not written, so that the error can describe the caller's logits.
/// </summary>
internal static class SimdGradient<TV>
    where TV : struct, ILanes<TV>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Slice(in ScoreJob job, long row, int begin, int end, in SoftmaxAccumulator softmax)
    {
        int vocab = job.Logits.Vocab;
        float* g = (float*)job.Gradient + row * vocab;
        int y = ((int*)job.Targets)[row];
        var ce = job.Ce;
        float lse = softmax.LogSumExp(ce.InvTemperature);
        if (!float.IsFinite(lse))
        {
            // An invalid row (NaN, +inf, all -inf, overflow): the call throws, and the error describes
            // the row from the logits, which in place are this destination: leave them as they are.
            return;
        }

        if (y == ce.IgnoreIndex)
        {
            new Span<float>(g + begin, end - begin).Clear();
            return;
        }

        bool weighted = job.Weights != 0;
        float* w = (float*)job.Weights;
        SoftmaxMath.GradientCoefficients(ce, lse, weighted ? w[y] : 1f, out float a, out float b, out float c);
        var scratch = BlockLoader.ScratchP;
        var vA = TV.Create(a);
        var vC = TV.Create(c);
        var vInvT = TV.Create(ce.InvTemperature);
        var vMax = TV.Create(softmax.Max);
        var vLogSum = TV.Create(softmax.LogSum);
        var one = TV.Create(1f);
        for (int b0 = begin; b0 < end; b0 += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b0);
            var x = BlockLoader.Load(job.Logits, row, b0, n, scratch);
            ref float x0 = ref MemoryMarshal.GetReference(x);
            float* dst = g + b0;
            ref float w0 = ref *(w + b0);

            // Scalar up to a vector-aligned destination, then non-temporal stores: the gradient is
            // written once and not read back here, so it need not be read for ownership first.
            int head = Math.Min(n, (int)(((nuint)(TV.Count * sizeof(float)) - ((nuint)dst % (nuint)(TV.Count * sizeof(float)))) % (nuint)(TV.Count * sizeof(float)) / sizeof(float)));
            // The head and tail go through the same vector arithmetic one lane at a time, so that a
            // value's bits do not depend on where the destination starts.
            for (int k = 0; k < head; k++)
            {
                dst[k] = One(x[k], weighted ? w[b0 + k] : 1f, vA, vC, vInvT, vMax, vLogSum);
            }

            int i = head;
            for (; i <= n - TV.Count; i += TV.Count)
            {
                Prefetch.Ahead(ref x0, i);
                var p = TV.Exp(TV.MultiplyAdd(TV.Load(ref x0, (nuint)i) - vMax, vInvT, -vLogSum));
                var wv = weighted ? TV.Load(ref w0, (nuint)i) : one;
                TV.StoreNonTemporal(vA * p - vC * wv, dst + i);
            }

            for (; i < n; i++)
            {
                dst[i] = One(x[i], weighted ? w[b0 + i] : 1f, vA, vC, vInvT, vMax, vLogSum);
            }
        }

        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.StoreFence(); // non-temporal stores are weakly ordered
        }

        if (y >= begin && y < end)
        {
            g[y] -= b;
        }
    }

    /// <summary>One gradient value computed exactly as a lane of the vector loop computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float One(float x, float w, TV a, TV c, TV invT, TV max, TV logSum) =>
        TV.Element((a * TV.Exp(TV.MultiplyAdd(TV.Create(x) - max, invT, -logSum))) - (c * TV.Create(w)), 0);
}
