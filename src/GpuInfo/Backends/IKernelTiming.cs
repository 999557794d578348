namespace GpuInfo.Backends;

/// <summary>
/// Timing hooks for benchmarks: runs a job repeatedly on data already where the backend computes
/// (uploaded once to an accelerator), so the times are of the kernels, not of host transfers.
/// The job's outputs hold the last run's results, for verification.
/// </summary>
internal interface IKernelTiming
{
    /// <summary>Seconds per run of <paramref name="repeats"/> timed runs after <paramref name="warmups"/> untimed ones.</summary>
    double[] TimeScore(in ScoreJob job, int warmups, int repeats);

    double[] TimeCompare(in CompareJob job, int warmups, int repeats);

    /// <summary>Seconds per plain read (a sum) of the bytes of <paramref name="data"/>: the bandwidth baseline.</summary>
    double[] TimeRead(RowsView data, int warmups, int repeats);
}
