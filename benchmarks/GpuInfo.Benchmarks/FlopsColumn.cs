using System.Diagnostics;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using GpuInfo.Backends.Cpu.Blas;

namespace GpuInfo.Benchmarks;

/// <summary>
/// For the IB iteration benchmarks: GFLOP/s (4·rows·vocab·clusters, the two products, over the mean
/// time) or, with <c>fractionOfMatmul</c>, that as a share of the machine's float32 matrix-multiply
/// rate, measured once in the process that writes the report (a 4096³ product on the system BLAS,
/// best of 3, all cores: the BLAS the CPU cases run on; the CUDA cases' peer rate is check.sh's).
/// </summary>
public sealed class FlopsColumn(bool fractionOfMatmul) : IColumn
{
    private static readonly Lazy<(double Gflops, string Blas)> Matmul = new(MeasureMatmul);

    public string Id => nameof(FlopsColumn) + fractionOfMatmul;

    public string ColumnName => fractionOfMatmul ? $"of matmul ({Matmul.Value.Gflops:F0} GFLOP/s)" : "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => fractionOfMatmul ? 2 : 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => fractionOfMatmul
        ? $"GFLOP/s over a 4096^3 float32 product's rate on {Matmul.Value.Blas}, measured when the report was written"
        : "4 x rows x vocab x clusters (the IB iteration's two products) per second of mean time";

    /// <summary>The FLOPs of one call of a case, or null where the benchmark is no IB iteration.</summary>
    public static double? FlopsOf(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (type == typeof(RowsIbIterationBenchmarks) && benchmarkCase.Parameters["Case"] is string shape)
        {
            var size = shape.Split('/')[0].Split('x');
            return 4.0 * double.Parse(size[0], System.Globalization.CultureInfo.InvariantCulture) * RowsIbIterationBenchmarks.Vocab
                * double.Parse(size[1], System.Globalization.CultureInfo.InvariantCulture);
        }

        return type == typeof(IbIterationBenchmarks) ? 4.0 * IbIterationBenchmarks.X * IbIterationBenchmarks.Y * IbIterationBenchmarks.T : null;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } stats || FlopsOf(benchmarkCase) is not { } flops)
        {
            return "-";
        }

        double gflops = flops / (stats.Mean * 1e-9) / 1e9;
        return fractionOfMatmul
            ? (gflops / Matmul.Value.Gflops).ToString("P0", System.Globalization.CultureInfo.InvariantCulture)
            : gflops.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => FlopsOf(c) is not null);

    private static (double, string) MeasureMatmul()
    {
        const int n = 4096;
        var sgemm = Sgemm.Create(Environment.ProcessorCount);
        var rng = new Random(0);
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)rng.NextDouble();
            b[i] = (float)rng.NextDouble();
        }

        double best = double.MaxValue;
        for (int round = 0; round < 4; round++)
        {
            var clock = Stopwatch.StartNew();
            sgemm.MultiplyTransposed(n, n, n, a, n, b, n, c, n);
            if (round > 0)
            {
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
        }

        return (2.0 * n * n * n / best / 1e9, sgemm.Name);
    }
}
