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

    /// <summary>
    /// An Information Bottleneck over rows (<see cref="ConditionalRows"/>) passes over all of them once
    /// per iteration. When they fit this many bytes they stay resident instead of being read again: on
    /// the CPU their float32 distributions (rows × vocab × 4 bytes), formed in the first pass, so later
    /// passes read nothing and compute no softmax; on an accelerator the raw rows, in device memory.
    /// Null: 1 GiB on the CPU, a quarter of device memory on an accelerator. 0: every pass reads the
    /// rows in chunks, and memory stays bounded by the chunks whatever the number of rows.
    /// </summary>
    public long? IbResidentBytes { get; init; }

    /// <summary>What <see cref="IbResidentBytes"/> means on the CPU when null.</summary>
    internal const long DefaultHostResidentBytes = 1L << 30;

    internal void Validate()
    {
        if (MaxDegreeOfParallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism,
                "threads must be >= 0 (0 means one per logical processor).");
        }

        if (IbResidentBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IbResidentBytes), IbResidentBytes,
                "the resident rows limit must be null (automatic) or at least 0 bytes (0: read the file every pass).");
        }

        if (DeviceMemoryBudgetBytes is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DeviceMemoryBudgetBytes), DeviceMemoryBudgetBytes,
                "the device memory budget must be null (automatic) or at least 1 byte.");
        }
    }
}
