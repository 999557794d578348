using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// Where a view starts relative to a 16-byte boundary, for the kernels' wide loads
/// (<see cref="GpuInfo.Kernels.SliceShape.Misalign"/>). On CUDA this is the device address itself.
/// Elsewhere it is the view's byte offset into its buffer: OpenCL hands out no addresses, and the
/// CPU accelerator's view casts are exact only at buffer offsets that are multiples of 16 (its
/// buffers come from the native heap, 16-byte aligned on 64-bit platforms; the kernels assert
/// each wide load's alignment there).
/// </summary>
internal static class ViewAlignment
{
    public static int Misalign<T>(ArrayView<T> view)
        where T : unmanaged
    {
        if (view.Length == 0)
        {
            return 0;
        }

        long at = ((IArrayView)view).Buffer.AcceleratorType == AcceleratorType.Cuda
            ? view.LoadEffectiveAddressAsPtr().ToInt64()
            : ((IContiguousArrayView)view).IndexInBytes;
        return (int)(at & (Kernels.WideLoad.Bytes - 1));
    }
}
