namespace GpuInfo.Kernels;

/// <summary>
/// 16 bytes of stored logits as four 32-bit words: the unit of one wide load
/// (<c>ld.global.v4.b32</c> on CUDA when the address is known to be 16-byte aligned).
/// </summary>
public struct Words16
{
    public uint X;
    public uint Y;
    public uint Z;
    public uint W;
}
