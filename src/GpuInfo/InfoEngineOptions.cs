namespace GpuInfo;

/// <summary>How an <see cref="InfoEngine"/> picks and uses its device.</summary>
public sealed record InfoEngineOptions
{
    /// <summary>
    /// auto, cuda, opencl, cpu, ilgpu-cpu, or a device index from <see cref="InfoEngine.ProbeDevices"/>.
    /// Null reads GPUINFO_DEVICE, else auto.
    /// </summary>
    public string? Device { get; init; }

    /// <summary>Threads of the SIMD CPU path; 0 means one per logical processor.</summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>Device memory the row kernels may use for buffers; null picks a third of the device, up to 4 GiB.</summary>
    public long? DeviceMemoryBudgetBytes { get; init; }

    internal void Validate()
    {
        if (MaxDegreeOfParallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism,
                "threads must be >= 0 (0 means one per logical processor).");
        }

        if (DeviceMemoryBudgetBytes is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DeviceMemoryBudgetBytes), DeviceMemoryBudgetBytes,
                "the device memory budget must be null (automatic) or at least 1 byte.");
        }
    }
}
