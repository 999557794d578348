using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// The bandwidth baseline of <c>gpuinfo bench</c>: every thread sums a grid-strided share of a buffer
/// (coalesced) and writes one value, so the kernel's time is the time to read the bytes once.
/// </summary>
public static class ReadKernel
{
    public static void Sum(Index1D thread, ArrayView<float> data, ArrayView<float> sums)
    {
        long stride = sums.Length;
        float acc = 0f;
        for (long i = thread; i < data.Length; i += stride)
        {
            acc += data[i];
        }

        sums[thread] = acc;
    }
}
