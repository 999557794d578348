namespace GpuInfo.Kernels;

/// <summary>Four float32 values written with one 16-byte store (<c>st.global.v4.f32</c>): the gradient's wide store.</summary>
public struct Float4
{
    public float X;
    public float Y;
    public float Z;
    public float W;
}
