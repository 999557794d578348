using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>The two-input kernels for one (P dtype, Q dtype) combination, compiled on first use and kept; those launched in the plan's groups with its <see cref="LaunchPlan.Specialization"/>.</summary>
internal sealed class PairKernels<TP, TLP, TQ, TLQ>(Accelerator accelerator, KernelSpecialization specialization)
    where TP : unmanaged
    where TLP : struct, ILogitLoader<TP>
    where TQ : unmanaged
    where TLQ : struct, ILogitLoader<TQ>
{
    private readonly Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>>> _stats =
        new(() => accelerator.LoadKernel<ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>>(
            PairStatsKernel.Run<TP, TLP, TQ, TLQ>, specialization));

    private readonly Lazy<Action<AcceleratorStream, Index1D, ArrayView<TP>, ArrayView<TQ>, ArrayView<PairPartial>, int, int, float, ArrayView<int>, int, PairOutputs>> _finish =
        new(() => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<TP>, ArrayView<TQ>, ArrayView<PairPartial>, int, int, float, ArrayView<int>, int, PairOutputs>(
            PairFinishKernel.Run<TP, TLP, TQ, TLQ>));

    private readonly Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>, ArrayView<float>, ArrayView<float>>> _js =
        new(() => accelerator.LoadKernel<ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>, ArrayView<float>, ArrayView<float>>(
            JensenShannonKernel.Run<TP, TLP, TQ, TLQ>, specialization));

    public Action<AcceleratorStream, KernelConfig, ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>> Stats => _stats.Value;

    public Action<AcceleratorStream, Index1D, ArrayView<TP>, ArrayView<TQ>, ArrayView<PairPartial>, int, int, float, ArrayView<int>, int, PairOutputs> Finish => _finish.Value;

    public Action<AcceleratorStream, KernelConfig, ArrayView<TP>, ArrayView<TQ>, SliceShape, float, ArrayView<PairPartial>, ArrayView<float>, ArrayView<float>> JensenShannon => _js.Value;
}
