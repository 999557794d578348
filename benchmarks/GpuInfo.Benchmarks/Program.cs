using BenchmarkDotNet.Running;

namespace GpuInfo.Benchmarks;

/// <summary>
/// BenchmarkDotNet suites. Run all:  dotnet run -c Release --project benchmarks/GpuInfo.Benchmarks -- --filter '*'
/// Results land in BenchmarkDotNet.Artifacts/results (GitHub markdown and JSON).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
}
