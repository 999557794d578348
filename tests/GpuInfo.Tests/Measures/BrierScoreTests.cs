using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The Brier score's totals through partials: exact merges of eval's and compare's sums, damaged sums
/// refused, version 6 partials read without them. Each row's score on every backend is
/// <see cref="CalibrationMeasureTests"/>'.
/// </summary>
public sealed class BrierScoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_comparisons_difference_merges_exactly_and_version_6_partials_read_without_it()
    {
        var data = new TestData();
        const int rows = 60, vocab = 157;
        var (x, y) = CalibrationMeasureTests.Rows(data, rows, vocab);
        var q = data.Perturbed(x, 0.3);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var p = MemoryRowSource.Float32(x, vocab, y);
        var t = MemoryRowSource.Float32(q, vocab, y);
        var one = CorpusRun.Compare(engine, p, t).Comparison!;
        var paths = Enumerable.Range(0, 2).Select(i =>
        {
            string path = _dir.File($"c{i}.json");
            CorpusRun.Compare(engine, p, t, run: new CorpusRunOptions { Shard = new Shard(i, 2), PartialPath = path, ChunkBytes = 7 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.Equal(one.MeanBrierDifference, merged.MeanBrierDifference);
        Assert.Equal(one.MeanBrierDifferenceError, merged.MeanBrierDifferenceError);
        Assert.Equal(one.CalibrationTest!.BrierScore, merged.CalibrationTest!.BrierScore);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Equal(one.MeanBrierDifference, (double)report["brier_diff"]!);

        foreach (string path in paths)
        {
            var v6 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v6["gpuinfo_partial"] = 6;
            v6["exact_sums"]!.AsObject().Remove("brier_diff_sum");
            v6["exact_sums"]!.AsObject().Remove("brier_diff_sq_sum");
            foreach (string side in new[] { "calibration_base", "calibration_test" })
            {
                v6[side]!.AsObject().Remove("brier_sum");
                v6[side]!.AsObject().Remove("brier_sq_sum");
            }

            File.WriteAllText(path, v6.ToJsonString());
        }

        var old = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.False(old.HasBrierDifference);
        Assert.True(double.IsNaN(old.MeanBrierDifference));
        Assert.Equal(one.MeanKl, old.MeanKl);
        report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["brier_diff"]);
        Assert.Null(report["brier_base"]);
    }

    [Fact]
    public void Partials_keep_the_sums_exactly_and_version_6_partials_read_without_them()
    {
        var data = new TestData();
        const int rows = 90, vocab = 211;
        var (x, y) = CalibrationMeasureTests.Rows(data, rows, vocab);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var source = MemoryRowSource.Float32(x, vocab, y);
        var one = CorpusRun.Evaluate(engine, source, null).Evaluation!.Calibration!;
        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            string path = _dir.File($"p{i}.json");
            CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { Shard = new Shard(i, 3), PartialPath = path, ChunkBytes = 5 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!.Calibration!;
        Assert.Equal(one.BrierScore, merged.BrierScore); // to the last bit
        Assert.Equal(one.BrierScoreError, merged.BrierScoreError);
        Assert.Equal(one.BrierScore, (double)CliRunner.Json(["merge", .. paths])["brier"]!);

        // A sum no set of tokens can give is refused, naming the file.
        var json = JsonNode.Parse(File.ReadAllText(paths[1]))!.AsObject();
        json["calibration"]!["brier_sum"] = "-0x1p0";
        File.WriteAllText(paths[1], json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[1]));
        Assert.Equal(paths[1], e.Path);
        Assert.Contains("Brier", e.Message, StringComparison.Ordinal);

        // Version 6 partials kept the bins but not the Brier sums: merged, the score is unknown, the rest as before.
        foreach (string path in paths)
        {
            var v6 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v6["gpuinfo_partial"] = 6;
            v6["calibration"]!.AsObject().Remove("brier_sum");
            v6["calibration"]!.AsObject().Remove("brier_sq_sum");
            File.WriteAllText(path, v6.ToJsonString());
        }

        var old = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!.Calibration!;
        Assert.False(old.HasBrierScore);
        Assert.True(double.IsNaN(old.BrierScore));
        Assert.Equal(one.ExpectedCalibrationError, old.ExpectedCalibrationError);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["brier"]);
        Assert.Equal(one.ExpectedCalibrationError, (double)report["ece"]!);

        // A version 7 partial without them is damaged.
        json = JsonNode.Parse(File.ReadAllText(paths[0]))!.AsObject();
        json["gpuinfo_partial"] = 7;
        File.WriteAllText(paths[0], json.ToJsonString());
        e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[0]));
        Assert.Contains("calibration.brier_sum", e.Message, StringComparison.Ordinal);
    }
}
