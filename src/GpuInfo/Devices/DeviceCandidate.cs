namespace GpuInfo;

/// <summary>One accelerator ILGPU found, whether it can run GpuInfo, and why not.</summary>
/// <param name="Index">The number that selects it (<c>--device N</c>, <c>GPUINFO_DEVICE=N</c>).</param>
/// <param name="Kind">CUDA, OpenCL or the ILGPU CPU accelerator.</param>
/// <param name="Name">The device's name as its driver reports it.</param>
/// <param name="MemoryBytes">Device memory (0 for the CPU accelerator).</param>
/// <param name="Usable">Whether GpuInfo can run on it.</param>
/// <param name="Note">Why it was skipped, or a short description when usable.</param>
public sealed record DeviceCandidate(int Index, DeviceKind Kind, string Name, long MemoryBytes, bool Usable, string Note);
