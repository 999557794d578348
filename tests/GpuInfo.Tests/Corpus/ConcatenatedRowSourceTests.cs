using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// A corpus saved as several files (one per batch) read as one: every figure equals the one file
/// holding the same rows, bit for bit (exact sums), whatever the chunk size, shards or merge; errors
/// name the part's file and the row within it.
/// </summary>
public sealed class ConcatenatedRowSourceTests : IClassFixture<CorpusEngineFixture>, IDisposable
{
    private const int T = 7, Vocab = 211;
    private static readonly int[] Sequences = [2, 1, 3];
    private readonly InfoEngine _engine;
    private readonly TempDir _dir = new();
    private readonly TestData _data = new();
    private readonly float[] _x;
    private readonly float[] _q;
    private readonly long[] _y;

    public ConcatenatedRowSourceTests(CorpusEngineFixture fixture)
    {
        _engine = fixture.Engine;
        int b = Sequences.Sum();
        _x = _data.Logits(b * T, Vocab);
        _q = _data.Perturbed(_x, 0.3);
        _y = CorpusCheck.Targets(_data, b * T, Vocab, 0.2);
        NpyFormat.Write<float>(File("all.npy"), _x, [b, T, Vocab]);
        NpyFormat.Write<float>(File("all-q.npy"), _q, [b, T, Vocab]);
        NpyFormat.Write<long>(File("all-y.npy"), _y, [b, T]);
        int first = 0;
        for (int i = 0; i < Sequences.Length; i++)
        {
            int rows = Sequences[i] * T;
            NpyFormat.Write<float>(File($"x{i}.npy"), _x.AsSpan(first * Vocab, rows * Vocab).ToArray(), [Sequences[i], T, Vocab]);
            NpyFormat.Write<long>(File($"y{i}.npy"), _y.AsSpan(first, rows).ToArray(), [Sequences[i], T]);
            first += rows;
        }

        // The test side split elsewhere: 3 sequences and 3.
        NpyFormat.Write<float>(File("q0.npy"), _q.AsSpan(0, 3 * T * Vocab).ToArray(), [3, T, Vocab]);
        NpyFormat.Write<float>(File("q1.npy"), _q.AsSpan(3 * T * Vocab).ToArray(), [3, T, Vocab]);
    }

    public void Dispose() => _dir.Dispose();

    private string File(string name) => _dir.File(name);

    private string[] Parts(string prefix) => [.. Enumerable.Range(0, Sequences.Length).Select(i => File($"{prefix}{i}.npy"))];

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    [InlineData(true, 1000)]
    public void Evaluating_the_parts_equals_evaluating_one_file(bool shift, int chunkRows)
    {
        var options = new FileRowSourceOptions { Shift = shift };
        using var whole = RowSources.Open(File("all.npy"), File("all-y.npy"), options);
        using var parts = RowSources.Open(Parts("x"), Parts("y"), options);
        Assert.IsType<ConcatenatedRowSource>(parts);
        Assert.Equal(whole.Rows, parts.Rows);
        var wholeRows = new float[whole.Rows];
        var partRows = new float[parts.Rows];
        var run = new CorpusRunOptions { ChunkBytes = chunkRows * whole.RowBytes, TopK = [1, 5] };
        var expected = CorpusRun.Evaluate(_engine, whole, null, run with { PerRow = (first, v) => v.CopyTo(wholeRows.AsSpan((int)first)) }).Evaluation!;
        var actual = CorpusRun.Evaluate(_engine, parts, null, run with { PerRow = (first, v) => v.CopyTo(partRows.AsSpan((int)first)) }).Evaluation!;
        CorpusCheck.Same(expected, actual, $"3 files against one (shift {shift}, chunks of {chunkRows} rows)");
        Assert.Equal(expected.TopKHits[5], actual.TopKHits[5]);
        Assert.Equal(wholeRows, partRows);
        Assert.True(expected.Tokens > 0);
    }

    [Fact]
    public void Shards_of_the_parts_merge_to_one_run_and_their_partials_name_every_file()
    {
        var options = new FileRowSourceOptions { Shift = true };
        using var parts = RowSources.Open(Parts("x"), Parts("y"), options);
        var one = CorpusRun.Evaluate(_engine, parts, null).Evaluation!;
        var paths = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            string path = File($"part-{i}.json");
            CorpusRun.Evaluate(_engine, parts, null, new CorpusRunOptions { Shard = new Shard(i, 4), PartialPath = path, ChunkBytes = 4 * parts.RowBytes });
            paths.Add(path);
        }

        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
        CorpusCheck.Same(one, merged.Evaluation, "4 shards over 3 files");
        var source = merged.Sources.Single();
        Assert.Equal("concatenation", source.Kind);
        Assert.Equal([.. Parts("x").Zip(Parts("y"), (x, y) => new[] { x, y }).SelectMany(f => f)], source.Files.Select(f => f.Path));
        Assert.Equal("3", source.Settings["parts"]);
        Assert.Equal((Sequences[1] * T).ToString(System.Globalization.CultureInfo.InvariantCulture), source.Settings["part[1].rows"]);
        Assert.Equal("true", source.Settings["part[2].shift"]);

        // The same rows in another order are another corpus: their partials do not merge with these.
        string[] swapped = [.. Parts("x").Reverse()], swappedTargets = [.. Parts("y").Reverse()];
        using var reordered = RowSources.Open(swapped, swappedTargets, options);
        CorpusRun.Evaluate(_engine, reordered, null, new CorpusRunOptions { Shard = new Shard(0, 4), PartialPath = paths[0] });
        Assert.Throws<InvalidFileException>(() => CorpusPartial.Merge(paths.Select(CorpusPartial.Load)));
    }

    [Fact]
    public void Comparing_parts_split_differently_equals_comparing_one_file_each()
    {
        using var wholeBase = RowSources.Open(File("all.npy"), File("all-y.npy"));
        using var wholeTest = RowSources.Open(File("all-q.npy"));
        using var partsBase = RowSources.Open(Parts("x"), Parts("y"));
        using var partsTest = RowSources.Open([File("q0.npy"), File("q1.npy")], null);
        var run = new CorpusRunOptions { ChunkBytes = 5 * wholeBase.RowBytes, TopK = [3] };
        var expected = CorpusRun.Compare(_engine, wholeBase, wholeTest, run: run).Comparison!;
        var actual = CorpusRun.Compare(_engine, partsBase, partsTest, run: run).Comparison!;
        CorpusCheck.Same(expected, actual, "3 base files against 2 test files");
        Assert.True(expected.HasTargets && expected.MeanReverseKl > 0);
    }

    [Fact]
    public void A_bad_row_is_named_by_its_file_and_its_row_there()
    {
        var x1 = _x.AsSpan(Sequences[0] * T * Vocab, Sequences[1] * T * Vocab).ToArray();
        x1[(4 * Vocab) + 17] = float.NaN;
        NpyFormat.Write<float>(File("x1.npy"), x1, [Sequences[1], T, Vocab]);
        RowSourceException e;
        using (var parts = RowSources.Open(Parts("x"), Parts("y")))
        {
            e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, parts, null, new CorpusRunOptions { ChunkBytes = 100 * parts.RowBytes }));
        }

        Assert.Equal(File("x1.npy"), e.Source);
        Assert.Equal(4, e.Row);
        Assert.StartsWith($"{File("x1.npy")}: row 4: ", e.Message, StringComparison.Ordinal);

        var y2 = _y.AsSpan((Sequences[0] + Sequences[1]) * T).ToArray();
        y2[9] = Vocab;
        NpyFormat.Write<long>(File("y2.npy"), y2, [Sequences[2], T]);
        NpyFormat.Write<float>(File("x1.npy"), _x.AsSpan(Sequences[0] * T * Vocab, Sequences[1] * T * Vocab).ToArray(), [Sequences[1], T, Vocab]);
        using var badTarget = RowSources.Open(Parts("x"), Parts("y"));
        var t = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, badTarget, null));
        Assert.Equal(File("y2.npy"), t.Source);
        Assert.Equal(9, t.Row);
    }

    [Fact]
    public void Parts_that_do_not_fit_together_are_refused_naming_the_part()
    {
        NpyFormat.Write<float>(File("v.npy"), _data.Logits(T, Vocab + 1), [1, T, Vocab + 1]);
        var vocab = Assert.Throws<RowSourceException>(() => RowSources.Open([File("x0.npy"), File("v.npy")], null));
        Assert.Equal(File("v.npy"), vocab.Source);
        Assert.Contains($"vocabulary {Vocab + 1}", vocab.Message, StringComparison.Ordinal);

        NpyFormat.Write<Half>(File("h.npy"), CorpusCheck.Float16(_data.Logits(T, Vocab)), [1, T, Vocab]);
        var type = Assert.Throws<RowSourceException>(() => RowSources.Open([File("x0.npy"), File("h.npy")], null));
        Assert.Equal(File("h.npy"), type.Source);
        Assert.Contains("Float16", type.Message, StringComparison.Ordinal);

        var targets = Assert.Throws<ArgumentException>(() => RowSources.Open(Parts("x"), [File("y0.npy")]));
        Assert.Equal("targetsPaths", targets.ParamName);
        Assert.Equal("paths", Assert.Throws<ArgumentException>(() => RowSources.Open([File("x0.npy"), RowSources.StandardInput], null)).ParamName);
        Assert.Equal("paths", Assert.Throws<ArgumentException>(() => RowSources.Open(Array.Empty<string>(), null)).ParamName);
        Assert.Equal("parts", Assert.Throws<ArgumentException>(() => ConcatenatedRowSource.Of([])).ParamName);

        // A missing file among several is named, and the files opened before it are closed again.
        var missing = Assert.Throws<InvalidFileException>(() => RowSources.Open([File("x0.npy"), File("nope.npy")], null));
        Assert.Equal(File("nope.npy"), missing.Path);
        NpyFormat.Write<float>(File("x0.npy"), _x.AsSpan(0, Sequences[0] * T * Vocab).ToArray(), [Sequences[0], T, Vocab]); // fails while a source holds it
    }

    [Fact]
    public void One_path_opens_that_file_alone()
    {
        using var one = RowSources.Open([File("x0.npy")], [File("y0.npy")]);
        Assert.IsType<FileRowSource>(one);
    }

    [Fact]
    public void The_cli_reads_several_files_as_one_corpus()
    {
        var whole = CliRunner.Json("eval", "--logits", File("all.npy"), "--targets", File("all-y.npy"), "--shift", "--device", "cpu");
        var parts = CliRunner.Json(["eval", "--logits", .. Parts("x"), "--targets", .. Parts("y"), "--shift", "--device", "cpu"]);
        foreach (string key in new[] { "tokens", "mean_nll", "perplexity", "mean_entropy", "top1_accuracy" })
        {
            Assert.Equal(whole[key]!.ToJsonString(), parts[key]!.ToJsonString());
        }

        var compareWhole = CliRunner.Json("compare", "--base", File("all.npy"), "--test", File("all-q.npy"), "--targets", File("all-y.npy"), "--device", "cpu");
        var compareParts = CliRunner.Json(["compare", "--base", .. Parts("x"), "--test", File("q0.npy"), File("q1.npy"), "--targets", .. Parts("y"), "--device", "cpu"]);
        foreach (string key in new[] { "tokens", "mean_kld", "mean_reverse_kld", "mean_js", "ppl_base", "ppl_test", "same_top1" })
        {
            Assert.Equal(compareWhole[key]!.ToJsonString(), compareParts[key]!.ToJsonString());
        }

        CliRunner.Fails(2, ["--logits needs one or more files before the next option", "'--targets'"], "eval", "--logits", "--targets", File("y0.npy"), "--device", "cpu");
        CliRunner.Fails(2, ["--targets"], "eval", "--logits", File("x0.npy"), "--targets", "--device", "cpu");
        CliRunner.Fails(2, ["2 targets files for 3 logits files"], ["eval", "--logits", .. Parts("x"), "--targets", File("y0.npy"), File("y1.npy"), "--device", "cpu"]);
        NpyFormat.Write<float>(File("v.npy"), _data.Logits(T, Vocab + 1), [1, T, Vocab + 1]);
        CliRunner.Fails(3, [File("v.npy"), $"vocabulary {Vocab + 1}"], "compare", "--base", File("x0.npy"), File("v.npy"), "--test", File("q0.npy"), "--device", "cpu");
        CliRunner.Fails(3, [File("q0.npy"), "shape"], "compare", "--base", File("x0.npy"), File("x1.npy"), "--test", File("q0.npy"), File("q1.npy"), "--device", "cpu");
    }
}
