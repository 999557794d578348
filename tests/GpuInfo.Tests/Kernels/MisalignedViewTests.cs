using GpuInfo.Backends.Ilgpu;
using GpuInfo.Kernels;
using GpuInfo.Tests.Measures;
using GpuInfo.Tests.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The row kernels on views that start off a 16-byte boundary (the engine's own views never do):
/// a single input at every element offset, and a float32/bf16 pair whose offsets agree (a wide
/// body after a head) or disagree (every column scalar), against the float64 reference.
/// </summary>
public abstract class MisalignedViewTests(EngineFixture fixture)
{
    private const int Rows = 5, Vocab = 37, Splits = 2;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void A_single_input_at_any_offset_matches_float64(int offset)
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        var data = new TestData();
        var x = data.Logits(Rows, Vocab);
        data.Mask(x, Vocab, 0.2);
        var bf16 = x.Select(BFloat16Bits.FromSingle).ToArray();
        using (backend.Use())
        {
            CheckSingle<float, Float32Loader>(backend, x, x, offset, $"f32 offset {offset} {data}");
            CheckSingle<ushort, BFloat16Loader>(backend, bf16, bf16.Select(BFloat16Bits.ToSingle).ToArray(), offset, $"bf16 offset {offset} {data}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 6)]
    [InlineData(1, 2)]
    [InlineData(0, 3)]
    public void A_float32_bf16_pair_at_any_offsets_matches_float64(int offsetP, int offsetQ)
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        var data = new TestData();
        var p = data.Logits(Rows, Vocab);
        var qBits = data.Perturbed(p, 0.2).Select(BFloat16Bits.FromSingle).ToArray();
        var q = qBits.Select(BFloat16Bits.ToSingle).ToArray();
        var acc = backend.Accelerator;
        using (backend.Use())
        {
            using var pBuffer = acc.Allocate1D<float>(offsetP + p.Length);
            using var qBuffer = acc.Allocate1D<ushort>(offsetQ + q.Length);
            var pView = At(pBuffer, offsetP, p);
            var qView = At(qBuffer, offsetQ, qBits);
            var shape = new SliceShape(Vocab, Splits, ViewAlignment.Misalign(pView), ViewAlignment.Misalign(qView));
            Assert.Equal((offsetP * 4 % 16, offsetQ * 2 % 16), (shape.Misalign, shape.MisalignQ));
            using var partials = acc.Allocate1D<PairPartial>(Rows * Splits);
            using var lse = acc.Allocate1D<float>(2 * Rows);
            using var kl = acc.Allocate1D<float>(2 * Rows);
            using var js = acc.Allocate1D<float>(Rows * Splits);
            using var tv = acc.Allocate1D<float>(Rows * Splits);
            var k = new PairKernels<float, Float32Loader, ushort, BFloat16Loader>(acc, backend.Plan.Specialization);
            var stream = acc.DefaultStream;
            k.Stats(stream, new KernelConfig(Rows * Splits, backend.GroupSize), pView, qView, shape, 1f, partials.View);
            var outputs = new PairOutputs
            {
                LseP = lse.View.SubView(0, Rows),
                LseQ = lse.View.SubView(Rows, Rows),
                KlForward = kl.View.SubView(0, Rows),
                KlReverse = kl.View.SubView(Rows, Rows),
            };
            k.Finish(stream, Rows, pView, qView, partials.View, Splits, Vocab, 1f, ArrayView<int>.Empty, -100, outputs);
            k.JensenShannon(stream, new KernelConfig(Rows * Splits, backend.GroupSize), pView, qView, shape, 1f, partials.View, js.View, tv.View);
            stream.Synchronize();
            var klHost = kl.GetAsArray1D();
            var jsHost = js.GetAsArray1D();
            var tvHost = tv.GetAsArray1D();
            for (int r = 0; r < Rows; r++)
            {
                var zp = Reference64.Scaled(p.AsSpan(r * Vocab, Vocab), 1);
                var zq = Reference64.Scaled(q.AsSpan(r * Vocab, Vocab), 1);
                string where = $"row {r} offsets {offsetP}/{offsetQ} {data}";
                Tolerance.Close(Reference64.Kl(zp, zq), klHost[r], 2e-5, 5e-6, "kl " + where);
                Tolerance.Close(Reference64.Kl(zq, zp), klHost[Rows + r], 2e-5, 5e-6, "reverse kl " + where);
                Tolerance.Close(Reference64.JensenShannon(zp, zq), jsHost[r * Splits] + jsHost[r * Splits + 1], 2e-5, 5e-6, "js " + where);
                Tolerance.Close(Reference64.TotalVariation(zp, zq), tvHost[r * Splits] + tvHost[r * Splits + 1], 2e-5, 5e-6, "tv " + where);
            }
        }
    }

    private static void CheckSingle<T, TLoad>(IlgpuBackend backend, T[] stored, float[] values, int offset, string what)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var acc = backend.Accelerator;
        using var buffer = acc.Allocate1D<T>(offset + stored.Length);
        var view = At(buffer, offset, stored);
        var shape = new SliceShape(Vocab, Splits, ViewAlignment.Misalign(view));
        Assert.Equal(offset * Interop.SizeOf<T>() % 16, shape.Misalign);
        using var partials = acc.Allocate1D<RowPartial>(Rows * Splits);
        using var lse = acc.Allocate1D<float>(Rows);
        using var entropy = acc.Allocate1D<float>(Rows);
        using var argmax = acc.Allocate1D<int>(Rows);
        var k = new SingleKernels<T, TLoad>(acc, backend.Plan.Specialization);
        var stream = acc.DefaultStream;
        k.Stats(stream, new KernelConfig(Rows * Splits, backend.GroupSize), view, shape, 1f, ArrayView<float>.Empty, partials.View);
        var ce = new CrossEntropyParams { Vocab = Vocab, IgnoreIndex = -100, InvTemperature = 1f };
        var outputs = new RowOutputs { Lse = lse.View, Entropy = entropy.View, ArgMax = argmax.View };
        k.Finish(stream, Rows, view, partials.View, Splits, ce, ArrayView<int>.Empty, ArrayView<float>.Empty, outputs);
        stream.Synchronize();
        var lseHost = lse.GetAsArray1D();
        var entropyHost = entropy.GetAsArray1D();
        var argmaxHost = argmax.GetAsArray1D();
        for (int r = 0; r < Rows; r++)
        {
            var z = Reference64.Scaled(values.AsSpan(r * Vocab, Vocab), 1);
            Tolerance.Close(Reference64.Lse(z), lseHost[r], 2e-6, 1e-5, $"lse row {r} {what}");
            Tolerance.Close(Reference64.Entropy(z), entropyHost[r], 1e-5, 3e-5, $"entropy row {r} {what}");
            Assert.True(Reference64.ArgMax(values.AsSpan(r * Vocab, Vocab)) == argmaxHost[r], $"argmax row {r} {what}");
        }
    }

    /// <summary>The values copied into a buffer at an element offset, and the view over them.</summary>
    private static ArrayView<T> At<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int offset, T[] values)
        where T : unmanaged
    {
        var view = buffer.View.AsContiguous().SubView(offset, values.Length);
        view.CopyFromCPU(values);
        return view;
    }
}

public sealed class IlgpuCpuMisalignedViewTests(IlgpuCpuFixture f) : MisalignedViewTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaMisalignedViewTests(CudaFixture f) : MisalignedViewTests(f), IClassFixture<CudaFixture>;
