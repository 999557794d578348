namespace GpuInfo.Benchmarking;

/// <summary>One timed measure: median milliseconds, throughput, and how far its results were from the check.</summary>
/// <param name="Bytes">What the op must move once: the logits it reads (both inputs for pairs) plus a gradient it writes.</param>
/// <param name="MaxRelativeError">Largest relative difference from the verification reference.</param>
public sealed record BenchmarkOp(string Op, double Milliseconds, double GigabytesPerSecond, double FractionOfReadBandwidth, long Bytes, double MaxRelativeError);

/// <summary>The result of <see cref="AcceleratorBenchmark.Run"/>.</summary>
public sealed record BenchmarkReport(
    DeviceReport Device,
    long Rows,
    int Vocab,
    ScalarType DType,
    double ReadGigabytesPerSecond,
    double? CopyGigabytesPerSecond,
    string Verification,
    IReadOnlyList<BenchmarkOp> Ops);
