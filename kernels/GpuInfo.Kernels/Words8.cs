namespace GpuInfo.Kernels;

/// <summary>8 bytes of stored logits as two 32-bit words (<c>ld.global.v2.b32</c>): four 16-bit logits beside four float32 ones.</summary>
public struct Words8
{
    public uint X;
    public uint Y;
}
