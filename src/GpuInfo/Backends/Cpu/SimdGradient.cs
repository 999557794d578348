using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Writes the cross-entropy gradient of columns [begin, end) of one row, given the row's lse:
/// g_k = a·p_k - c·w_k - b·[k = y] (coefficients from <see cref="SoftmaxMath.GradientCoefficients"/>).
/// The destination may be the float32 logits themselves (each block is read before it is written).
/// </summary>
internal static class SimdGradient
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Slice(in ScoreJob job, long row, int begin, int end)
    {
        int vocab = job.Logits.Vocab;
        float* g = (float*)job.Gradient + row * vocab;
        int y = ((int*)job.Targets)[row];
        var ce = job.Ce;
        if (y == ce.IgnoreIndex)
        {
            new Span<float>(g + begin, end - begin).Clear();
            return;
        }

        bool weighted = job.Weights != 0;
        float* w = (float*)job.Weights;
        float lse = ((float*)job.Lse)[row];
        SoftmaxMath.GradientCoefficients(ce, lse, weighted ? w[y] : 1f, out float a, out float b, out float c);
        var scratch = BlockLoader.ScratchP;
        var vA = Vector256.Create(a);
        var vC = Vector256.Create(c);
        var vInvT = Vector256.Create(ce.InvTemperature);
        var vLse = Vector256.Create(lse);
        for (int b0 = begin; b0 < end; b0 += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b0);
            var x = BlockLoader.Load(job.Logits, row, b0, n, scratch);
            ref float x0 = ref MemoryMarshal.GetReference(x);
            float* dst = g + b0;
            int i = 0;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var p = Vector256.Exp(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x0, (nuint)i), vInvT, -vLse));
                var wv = weighted ? Vector256.Load(w + b0 + i) : Vector256<float>.One;
                Vector256.Store(vA * p - vC * wv, dst + i);
            }

            for (; i < n; i++)
            {
                float p = MathF.Exp(x[i] * ce.InvTemperature - lse);
                dst[i] = a * p - c * (weighted ? w[b0 + i] : 1f);
            }
        }

        if (y >= begin && y < end)
        {
            g[y] -= b;
        }
    }
}
