using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The total variation's totals through partials and reports: shards merge to one run's sums exactly,
/// damaged sums are refused, version 7 partials read without them (null in the report), and
/// <c>compare</c> reports <c>mean_tvd</c> and the acceptance rate. Each row's value on every backend
/// is <see cref="TotalVariationTests"/>'.
/// </summary>
public sealed class TotalVariationReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Shards_merge_exactly_damaged_sums_are_refused_and_version_7_partials_read_without_them()
    {
        var data = new TestData();
        const int rows = 70, vocab = 263;
        var (x, q) = TotalVariationTests.Pairs(data, rows, vocab);
        var y = data.Targets(rows, vocab, ignoredFraction: 0.1).Select(t => (long)t).ToArray();
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var p = MemoryRowSource.Float32(x, vocab, y);
        var t = MemoryRowSource.Float32(q, vocab, y);
        var one = CorpusRun.Compare(engine, p, t).Comparison!;
        Assert.True(one.MeanTotalVariation > 0 && one.MeanTotalVariation < 1);
        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            string path = _dir.File($"c{i}.json");
            CorpusRun.Compare(engine, p, t, run: new CorpusRunOptions { Shard = new Shard(i, 3), PartialPath = path, ChunkBytes = 6 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.Equal(one.TotalVariationSum, merged.TotalVariationSum); // to the last bit
        Assert.Equal(one.MeanTotalVariationError, merged.MeanTotalVariationError);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Equal(one.MeanTotalVariation, (double)report["mean_tvd"]!);
        Assert.Equal(one.AcceptanceRate, (double)report["acceptance_rate"]!);
        Assert.Equal(one.MeanTotalVariationError, (double)report["acceptance_rate_se"]!);

        // A sum no set of tokens can give is refused, naming the file.
        string damaged = _dir.File("damaged.json");
        var json = JsonNode.Parse(File.ReadAllText(paths[1]))!.AsObject();
        long tokens = (long)json["counts"]!["tokens"]!;
        var tooMuch = default(ExactSum);
        tooMuch.Add(tokens + 1);
        json["exact_sums"]!["tv_sum"] = tooMuch.ToExactString();
        File.WriteAllText(damaged, json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(damaged));
        Assert.Equal(damaged, e.Path);
        Assert.Contains("total variation", e.Message, StringComparison.Ordinal);

        // Version 7 partials had no TV sums: merged, it is unknown, the rest as before. One that an
        // edit left holding them is read as its version defines it, without them.
        foreach (string path in paths)
        {
            var v7 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v7["gpuinfo_partial"] = 7;
            foreach (string sums in path == paths[0] ? [] : new[] { "sums", "exact_sums" })
            {
                v7[sums]!.AsObject().Remove("tv_sum");
                v7[sums]!.AsObject().Remove("tv_sq_sum");
            }

            File.WriteAllText(path, v7.ToJsonString());
        }

        Assert.False(CorpusPartial.Load(paths[0]).Comparison!.HasTotalVariation);
        var old = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.False(old.HasTotalVariation);
        Assert.True(double.IsNaN(old.MeanTotalVariation));
        Assert.Equal(one.MeanKl, old.MeanKl);
        Assert.Equal(one.MeanBrierDifference, old.MeanBrierDifference);
        report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["mean_tvd"]);
        Assert.Null(report["acceptance_rate"]);
        Assert.Equal(one.MeanJs, (double)report["mean_js"]!);
        Assert.DoesNotContain("TVD", CliRunner.Run(["merge", .. paths]).Stdout, StringComparison.Ordinal);

        // A version 8 partial without them is damaged.
        json = JsonNode.Parse(File.ReadAllText(paths[1]))!.AsObject();
        json["gpuinfo_partial"] = 8;
        File.WriteAllText(paths[1], json.ToJsonString());
        e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[1]));
        Assert.Contains("exact_sums.tv_sum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_reports_the_mean_and_the_acceptance_rate_in_json_and_text()
    {
        var data = new TestData();
        const int rows = 40, vocab = 301;
        var p = data.Logits(rows, vocab);
        var q = data.Perturbed(p, 0.2);
        string basePath = _dir.File("base.npy"), testPath = _dir.File("test.npy");
        NpyFormat.Write(basePath, p.AsSpan(), [rows, vocab]);
        NpyFormat.Write(testPath, q.AsSpan(), [rows, vocab]);
        var tv = new float[rows];
        using (var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" }))
        {
            engine.TotalVariation(Logits.Float32(p, vocab), Logits.Float32(q, vocab), tv);
        }

        double mean = tv.Select(v => (double)v).Average();
        var report = CliRunner.Json(["compare", "--base", basePath, "--test", testPath, "--device", "cpu"]);
        Assert.Equal(mean, (double)report["mean_tvd"]!, 1e-12);
        Assert.Equal(1 - mean, (double)report["acceptance_rate"]!, 1e-12);
        string text = CliRunner.Run(["compare", "--base", basePath, "--test", testPath, "--device", "cpu"]).Stdout;
        Assert.Contains($"Mean   TVD: {mean,10:F6}", text, StringComparison.Ordinal);
        Assert.Contains($"Accepted  : {100 * (1 - mean),6:F3}", text, StringComparison.Ordinal);
    }
}
