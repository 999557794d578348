using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;

namespace GpuInfo.Benchmarks;

/// <summary>The default config with short jobs (the suites are memory-bound and stable), a GB/s column, GFLOP/s columns for the IB iterations, and markdown + JSON exporters.</summary>
public static class BenchConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).WithLaunchCount(1))
        .AddColumn(new ThroughputColumn(), new FlopsColumn(fractionOfMatmul: false), new FlopsColumn(fractionOfMatmul: true))
        .AddExporter(MarkdownExporter.GitHub)
        .AddExporter(JsonExporter.Full)
        .WithOptions(ConfigOptions.DisableOptimizationsValidator);
}
