using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GpuInfo.Benchmarks;

/// <summary>GB/s: the bytes a measure must move once (see <see cref="RowMeasureBenchmarks.BytesOf"/>) over the mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "GB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Bytes the measure must read (and a gradient write) once, per second of mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats || benchmarkCase.Parameters["Shape"] is not string shape
            || benchmarkCase.Parameters["DType"] is not ScalarType dtype || benchmarkCase.Parameters["Device"] is not string device)
        {
            return "-";
        }

        long bytes = RowMeasureBenchmarks.BytesOf(benchmarkCase.Descriptor.WorkloadMethod.Name, shape, dtype, device);
        return (bytes / (stats.Mean * 1e-9) / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
