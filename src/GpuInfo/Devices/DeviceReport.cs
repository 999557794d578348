namespace GpuInfo;

/// <summary>What <see cref="InfoEngine"/> chose to run on, as requested, and why.</summary>
public sealed record DeviceReport
{
    public required DeviceKind Kind { get; init; }

    public required string Name { get; init; }

    /// <summary>The request as given: auto, cuda, opencl, cpu, ilgpu-cpu or an index.</summary>
    public required string Request { get; init; }

    /// <summary>Where the request came from: the option, GPUINFO_DEVICE, or the default.</summary>
    public required string RequestSource { get; init; }

    /// <summary>One sentence on why this device was chosen.</summary>
    public required string Reason { get; init; }

    /// <summary>Every accelerator examined, with the reasons others were skipped (empty when none were probed).</summary>
    public IReadOnlyList<DeviceCandidate> Candidates { get; init; } = [];

    /// <summary>Device memory in bytes (host memory is not reported for the CPU path: 0).</summary>
    public long MemoryBytes { get; init; }

    public override string ToString() => $"{Kind} ({Name}): {Reason}";
}
