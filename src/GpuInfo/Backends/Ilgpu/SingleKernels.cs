using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>The single-input kernels for one logits dtype, compiled on first use and kept; those launched in the plan's groups with its <see cref="LaunchPlan.Specialization"/>.</summary>
internal sealed class SingleKernels<T, TLoad>(Accelerator accelerator, KernelSpecialization specialization)
    where T : unmanaged
    where TLoad : struct, ILogitLoader<T>
{
    private readonly Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<T>, SliceShape, float, ArrayView<float>, ArrayView<RowPartial>>> _stats =
        new(() => accelerator.LoadKernel<ArrayView<T>, SliceShape, float, ArrayView<float>, ArrayView<RowPartial>>(
            RowStatsKernel.Run<T, TLoad>, specialization));

    private readonly Lazy<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<RowPartial>, int, CrossEntropyParams, ArrayView<int>, ArrayView<float>, RowOutputs>> _finish =
        new(() => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<T>, ArrayView<RowPartial>, int, CrossEntropyParams, ArrayView<int>, ArrayView<float>, RowOutputs>(
            RowFinishKernel.Run<T, TLoad>));

    private readonly Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<T>, SliceShape, CrossEntropyParams, ArrayView<int>, ArrayView<float>, ArrayView<RowPartial>, ArrayView<float>>> _gradient =
        new(() => accelerator.LoadKernel<ArrayView<T>, SliceShape, CrossEntropyParams, ArrayView<int>, ArrayView<float>, ArrayView<RowPartial>, ArrayView<float>>(
            CrossEntropyGradientKernel.Run<T, TLoad>, specialization));

    public Action<AcceleratorStream, KernelConfig, ArrayView<T>, SliceShape, float, ArrayView<float>, ArrayView<RowPartial>> Stats => _stats.Value;

    public Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<RowPartial>, int, CrossEntropyParams, ArrayView<int>, ArrayView<float>, RowOutputs> Finish => _finish.Value;

    public Action<AcceleratorStream, KernelConfig, ArrayView<T>, SliceShape, CrossEntropyParams, ArrayView<int>, ArrayView<float>, ArrayView<RowPartial>, ArrayView<float>> Gradient => _gradient.Value;
}
