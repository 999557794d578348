namespace GpuInfo;

/// <summary>Where measures run.</summary>
public enum DeviceKind
{
    /// <summary>The managed SIMD CPU path (the production CPU backend).</summary>
    Cpu,

    /// <summary>ILGPU's CPU accelerator: runs the GPU kernels on the CPU, for tests. Slow.</summary>
    IlgpuCpu,

    Cuda,

    OpenCL,
}
