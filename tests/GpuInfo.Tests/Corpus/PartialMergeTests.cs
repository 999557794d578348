using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// Saving, loading and merging partials: what merges (every shard of one run, in any order, from
/// any path) and what is refused, always with a message naming the offending file.
/// </summary>
public sealed class PartialMergeTests : IClassFixture<CorpusEngineFixture>, IDisposable
{
    private const int Rows = 23, Vocab = 37;
    private readonly InfoEngine _engine;
    private readonly TempDir _dir = new();
    private readonly float[] _x;
    private readonly long[] _y;

    public PartialMergeTests(CorpusEngineFixture fixture)
    {
        _engine = fixture.Engine;
        var data = new TestData(200);
        _x = data.Logits(Rows, Vocab);
        _y = CorpusCheck.Targets(data, Rows, Vocab, 0.2);
        NpyFormat.Write<float>(File("x.npy"), _x, [Rows, Vocab]);
        NpyFormat.Write<long>(File("y.npy"), _y, [Rows]);
        NpyFormat.Write<float>(File("q.npy"), data.Perturbed(_x, 0.2), [Rows, Vocab]);
    }

    public void Dispose() => _dir.Dispose();

    private string File(string name) => _dir.File(name);

    /// <summary>Runs shard <paramref name="index"/> of <paramref name="count"/> of an evaluation and saves it.</summary>
    private string Eval(int index, int count, string name, CrossEntropyOptions? options = null, string logits = "x.npy", string targets = "y.npy")
    {
        using var source = FileRowSource.Open(File(logits), File(targets));
        string path = File(name);
        CorpusRun.Evaluate(_engine, source, options, new CorpusRunOptions { Shard = new Shard(index, count), PartialPath = path });
        return path;
    }

    private string Compare(int index, int count, string name)
    {
        using var baseSource = FileRowSource.Open(File("x.npy"), File("y.npy"));
        using var testSource = FileRowSource.Open(File("q.npy"));
        string path = File(name);
        CorpusRun.Compare(_engine, baseSource, testSource, run: new CorpusRunOptions { Shard = new Shard(index, count), PartialPath = path });
        return path;
    }

    private static InvalidFileException Refused(params string[] paths) =>
        Assert.Throws<InvalidFileException>(() => CorpusPartial.Merge(paths.Select(CorpusPartial.Load).ToList()));

    private static void Names(InvalidFileException e, string path)
    {
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    private static void Edit(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        edit(json);
        System.IO.File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void All_shards_in_any_order_merge_to_one_run()
    {
        var expected = CorpusCheck.OneCall(_engine, _x, Vocab, _y);
        var paths = new[] { Eval(2, 3, "e2.json"), Eval(0, 3, "e0.json"), Eval(1, 3, "e1.json") };
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
        CorpusCheck.Same(expected, merged.Evaluation, "3 shards");
        Assert.Equal(3, merged.Parts);
        Assert.Equal(Rows, merged.RowCount);
        Assert.Equal(Shard.All, merged.Shard);
        Assert.Null(merged.Origin);
    }

    [Fact]
    public void A_single_complete_partial_merges_to_itself_and_is_versioned_json()
    {
        string path = Eval(0, 1, "all.json");
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        Assert.Equal(8, (int)json["gpuinfo_partial"]!);
        Assert.Equal(CorpusPartial.FormatVersion, (int)json["gpuinfo_partial"]!);
        Assert.Equal(0, (long)json["counts"]!["scored_words"]!); // files give no words
        Assert.Equal("eval", (string)json["kind"]!);
        Assert.Equal(1, (int)json["parts"]!);
        Assert.Equal(0, (int)json["shard"]!["index"]!);
        Assert.Equal(1, (int)json["shard"]!["count"]!);
        Assert.Equal(Rows, (long)json["shard"]!["rows"]!);

        var expected = CorpusCheck.OneCall(_engine, _x, Vocab, _y);
        Assert.Equal(expected.Tokens, (long)json["counts"]!["tokens"]!);
        Assert.Equal(expected.Ignored, (long)json["counts"]!["ignored"]!);
        Assert.Equal(expected.Top1Hits, (long)json["counts"]!["top1_hits"]!);
        Assert.Equal(expected.NllSum, (double)json["sums"]!["nll_sum"]!);
        Assert.Equal(expected.NllSum, ExactSum.Parse((string)json["exact_sums"]!["nll_sum"]!).Value);
        Assert.Equal(expected.WeightSum, ExactSum.Parse((string)json["exact_sums"]!["weight_sum"]!).Value);
        var files = json["sources"]![0]!["files"]!.AsArray();
        Assert.Equal(new[] { "logits", "targets" }, files.Select(f => (string)f!["role"]!));

        var loaded = CorpusPartial.Load(path);
        Assert.Equal(path, loaded.Origin);
        var merged = CorpusPartial.Merge([loaded]);
        CorpusCheck.Same(expected, merged.Evaluation, "one complete partial");
        Assert.Equal(Rows, merged.RowCount);
        Assert.Equal(1, merged.Parts);
        Assert.Equal(Shard.All, merged.Shard);
    }

    [Fact]
    public void A_compare_partial_round_trips_exactly()
    {
        using var baseSource = FileRowSource.Open(File("x.npy"), File("y.npy"));
        using var testSource = FileRowSource.Open(File("q.npy"));
        var run = CorpusRun.Compare(_engine, baseSource, testSource, 0.9f, -100, new CorpusRunOptions { PartialPath = File("c.json") });
        var loaded = CorpusPartial.Load(File("c.json"));
        CorpusCheck.Same(run.Comparison!, loaded.Comparison, "compare partial saved and loaded", values: false);
        Assert.Equal(CorpusMeasure.Comparison, loaded.Measure);
        Assert.Equal("0.9", loaded.Options["temperature"]);
        Assert.Equal(2, loaded.Sources.Count);
        Assert.Equal(File("q.npy"), loaded.Sources[1].Files[0].Path);
        Assert.Equal("compare", (string)JsonNode.Parse(System.IO.File.ReadAllText(File("c.json")))!["kind"]!);
    }

    [Fact]
    public void Eval_and_compare_partials_do_not_merge()
    {
        string e0 = Eval(0, 3, "e0.json"), c1 = Compare(1, 3, "c1.json"), e2 = Eval(2, 3, "e2.json");
        var e = Refused(e0, c1, e2);
        Names(e, c1);
        Assert.Contains("cannot be merged", e.Message, StringComparison.Ordinal);
        Assert.Contains(e0, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Partials_with_other_options_do_not_merge()
    {
        string e0 = Eval(0, 3, "e0.json"), e2 = Eval(2, 3, "e2.json");
        string hot = Eval(1, 3, "e1-hot.json", new CrossEntropyOptions { Temperature = 2f });
        var e = Refused(e0, hot, e2);
        Names(e, hot);
        Assert.Contains("temperature", e.Message, StringComparison.Ordinal);

        string smoothed = Eval(1, 3, "e1-smooth.json", new CrossEntropyOptions { LabelSmoothing = 0.1f });
        Names(Refused(e0, smoothed, e2), smoothed);
        string ignoring = Eval(1, 3, "e1-ignore.json", new CrossEntropyOptions { IgnoreIndex = 3 });
        Names(Refused(e0, ignoring, e2), ignoring);
        string weighted = Eval(1, 3, "e1-weights.json", new CrossEntropyOptions { ClassWeights = [.. Enumerable.Repeat(1f, Vocab)] });
        var w = Refused(e0, weighted, e2);
        Names(w, weighted);
        Assert.Contains("class_weights", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Partials_over_other_logits_do_not_merge()
    {
        string e0 = Eval(0, 3, "e0.json"), e2 = Eval(2, 3, "e2.json");

        // The same values as [1, 23, 37]: rows and vocabulary agree, the header (shape) does not.
        NpyFormat.Write<float>(File("x3.npy"), _x, [1, Rows, Vocab]);
        string reshaped = Eval(1, 3, "e1-reshaped.json", logits: "x3.npy");
        var e = Refused(e0, reshaped, e2);
        Names(e, reshaped);
        Assert.Contains("sources[0]", e.Message, StringComparison.Ordinal);

        // The same values stored as float64: another dtype, header and size.
        NpyFormat.Write<double>(File("x64.npy"), [.. _x.Select(v => (double)v)], [Rows, Vocab]);
        string wide = Eval(1, 3, "e1-f64.json", logits: "x64.npy");
        Names(Refused(e0, wide, e2), wide);

        // fp16 logits: rows are delivered as another type.
        NpyFormat.Write<Half>(File("x16.npy"), CorpusCheck.Float16(_x), [Rows, Vocab]);
        string half = Eval(1, 3, "e1-f16.json", logits: "x16.npy");
        var h = Refused(e0, half, e2);
        Names(h, half);

        // Other values of the same shape and dtype (another model's logits): the sampled contents differ.
        NpyFormat.Write<float>(File("xv.npy"), [.. _x.Select(v => v + 0.5f)], [Rows, Vocab]);
        string values = Eval(1, 3, "e1-values.json", logits: "xv.npy");
        var v = Refused(e0, values, e2);
        Names(v, values);
        Assert.Contains("sample_sha256", v.Message, StringComparison.Ordinal);
    }

    /// <summary>A large file's sample spans it: a change in its first or last bytes changes the fingerprint, reading 1 MiB.</summary>
    [Fact]
    public void The_sampled_fingerprint_of_a_large_file_covers_its_ends()
    {
        var bytes = new byte[(3 << 20) + 12345];
        new Random(7).NextBytes(bytes);
        string path = File("big.bin");
        System.IO.File.WriteAllBytes(path, bytes);
        var original = FileFingerprint.Of("logits", path, 128);
        Assert.Equal(original, FileFingerprint.Of("logits", path, bytes, 128) with { Path = path });
        foreach (int at in new[] { 200, bytes.Length - 1 })
        {
            bytes[at] ^= 0xFF;
            System.IO.File.WriteAllBytes(path, bytes);
            Assert.NotEqual(original.SampleSha256, FileFingerprint.Of("logits", path, 128).SampleSha256);
            bytes[at] ^= 0xFF;
        }
    }

    [Fact]
    public void Partials_over_other_targets_do_not_merge()
    {
        string e0 = Eval(0, 3, "e0.json"), e2 = Eval(2, 3, "e2.json");
        NpyFormat.Write<int>(File("y32.npy"), [.. _y.Select(t => (int)t)], [Rows]);
        string narrow = Eval(1, 3, "e1-y32.json", targets: "y32.npy");
        var e = Refused(e0, narrow, e2);
        Names(e, narrow);
        Assert.Contains("files[1]", e.Message, StringComparison.Ordinal);

        // A shard run without shift against shards with it.
        using (var shifted = FileRowSource.Open(File("x.npy"), File("y.npy"), new FileRowSourceOptions { Shift = true }))
        {
            CorpusRun.Evaluate(_engine, shifted, run: new CorpusRunOptions { Shard = new Shard(1, 3), PartialPath = File("e1-shift.json") });
        }

        var s = Refused(e0, File("e1-shift.json"), e2);
        Names(s, File("e1-shift.json"));
        Assert.Contains("shift", s.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_files_under_another_path_merge()
    {
        string elsewhere = Path.Combine(_dir.Path, "mount");
        Directory.CreateDirectory(elsewhere);
        System.IO.File.Copy(File("x.npy"), Path.Combine(elsewhere, "x.npy"));
        System.IO.File.Copy(File("y.npy"), Path.Combine(elsewhere, "y.npy"));
        string e0 = Eval(0, 3, "e0.json"), e1 = Eval(1, 3, "e1.json", logits: "mount/x.npy", targets: "mount/y.npy"), e2 = Eval(2, 3, "e2.json");
        var merged = CorpusPartial.Merge([.. new[] { e0, e1, e2 }.Select(CorpusPartial.Load)]);
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, _x, Vocab, _y), merged.Evaluation, "shards over copies of the files");
    }

    [Fact]
    public void Shards_of_runs_with_different_counts_do_not_merge()
    {
        string a = Eval(0, 3, "a0.json"), b = Eval(1, 2, "b1.json"), c = Eval(2, 3, "a2.json");
        var e = Refused(a, b, c);
        Names(e, b);
        Assert.Contains("1/2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_present_twice_is_refused()
    {
        string e0 = Eval(0, 3, "e0.json"), e1 = Eval(1, 3, "e1.json"), e2 = Eval(2, 3, "e2.json");
        string again = File("e1-again.json");
        System.IO.File.Copy(e1, again);
        var e = Refused(e0, e1, again, e2);
        Names(e, again);
        Assert.Contains("1/3", e.Message, StringComparison.Ordinal);
        Assert.Contains(e1, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_shard_is_named()
    {
        string e0 = Eval(0, 3, "e0.json"), e2 = Eval(2, 3, "e2.json");
        var e = Refused(e2, e0);
        Assert.Contains("1/3", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0/3", e.Message, StringComparison.Ordinal);
        Assert.True(e.Path == e0 || e.Path == e2, $"the message must name a partial of the run: {e.Message}");

        string f1 = Eval(1, 5, "f1.json"), f4 = Eval(4, 5, "f4.json");
        var f = Refused(f4, f1);
        Assert.Contains("0/5, 2/5, 3/5", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_shard_of_several_is_refused_as_incomplete()
    {
        // One partial of a 3-shard run is not the run: shards 0/3 and 2/3 are missing.
        string e1 = Eval(1, 3, "e1.json");
        var e = Refused(e1);
        Names(e, e1);
        Assert.Contains("0/3", e.Message, StringComparison.Ordinal);
        Assert.Contains("2/3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_already_merged_partial_does_not_merge_again_with_shards()
    {
        var merged = CorpusPartial.Merge([.. new[] { Eval(0, 2, "e0.json"), Eval(1, 2, "e1.json") }.Select(CorpusPartial.Load)]);
        merged.Save(File("merged.json"));
        var e = Refused(File("merged.json"), File("e0.json"));
        Assert.Contains("merged.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_whose_rows_are_not_its_index_range_is_refused()
    {
        string e0 = Eval(0, 3, "e0.json"), e1 = Eval(1, 3, "e1.json"), e2 = Eval(2, 3, "e2.json");
        Edit(e1, json => json["shard"]!["first_row"] = 8);
        var e = Refused(e0, e1, e2);
        Names(e, e1);
        Assert.Contains("rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Partials_in_memory_are_named_by_position()
    {
        using var source = MemoryRowSource.Float32(_x, Vocab, _y, "mem");
        using var test = MemoryRowSource.Float32(_x, Vocab, null, "test");
        var eval = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(0, 2) });
        var compare = CorpusRun.Compare(_engine, source, test, run: new CorpusRunOptions { Shard = new Shard(1, 2) });
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Merge([eval, compare]));
        Assert.Contains("#1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CorpusPartial.Merge([]));
    }

    [Fact]
    public void A_file_that_is_not_json_is_refused()
    {
        string path = File("garbage.json");
        System.IO.File.WriteAllText(path, "this is { not json");
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path));
        Names(e, path);
        Assert.Contains("JSON", e.Message, StringComparison.Ordinal);

        System.IO.File.WriteAllText(path, string.Empty);
        Names(Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path)), path);
        System.IO.File.WriteAllText(path, "[1, 2, 3]");
        Names(Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path)), path);
        System.IO.File.WriteAllText(path, "{\"kind\": \"eval\"}");
        Names(Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path)), path);

        string missing = File("nowhere.json");
        Names(Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(missing)), missing);
    }

    /// <summary>A source that counts words per target (as a model's text does) saves them, and shards of it merge to one run's count.</summary>
    [Fact]
    public void Scored_words_are_counted_saved_and_merged_like_scored_bytes()
    {
        var options = new CrossEntropyOptions { IgnoreIndex = -100 };
        using var whole = new CountingSource(FileRowSource.Open(File("x.npy"), File("y.npy")));
        var one = CorpusRun.Evaluate(_engine, whole, options).Evaluation!;
        long words = 0, bytes = 0;
        for (int r = 0; r < Rows; r++)
        {
            words += _y[r] == -100 ? 0 : CountingSource.Words(r);
            bytes += _y[r] == -100 ? 0 : CountingSource.Bytes(r);
        }

        Assert.True(one.Ignored > 0, "some targets are ignored, and their words not counted");
        Assert.Equal(words, one.ScoredWords);
        Assert.Equal(bytes, one.ScoredBytes);

        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            using var shard = new CountingSource(FileRowSource.Open(File("x.npy"), File("y.npy")));
            string path = File($"w{i}.json");
            CorpusRun.Evaluate(_engine, shard, options, new CorpusRunOptions { Shard = new Shard(i, 3), PartialPath = path });
            return path;
        }).ToList();
        Assert.True((long)JsonNode.Parse(System.IO.File.ReadAllText(paths[0]))!["counts"]!["scored_words"]! > 0);
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!;
        Assert.Equal(words, merged.ScoredWords);
        Assert.Equal(bytes, merged.ScoredBytes);
        Assert.Equal(one.WordPerplexity(words), merged.WordPerplexity(merged.ScoredWords));
    }

    /// <summary>Version 3 partials (before scored_words) are still read, as counting no words, but not merged with later ones.</summary>
    [Fact]
    public void A_version_3_partial_is_read_without_words_and_merged_only_with_its_own_version()
    {
        string[] paths = [Eval(0, 2, "v0.json"), Eval(1, 2, "v1.json")];
        Edit(paths[0], json =>
        {
            json["gpuinfo_partial"] = 3;
            json["counts"]!.AsObject().Remove("scored_words");
        });
        var old = CorpusPartial.Load(paths[0]);
        Assert.Equal(3, old.Version);
        Assert.Equal(0, old.Evaluation!.ScoredWords);
        var e = Refused(paths);
        Names(e, paths[1]);
        Assert.Contains($"format version {CorpusPartial.FormatVersion} cannot be merged with version 3", e.Message, StringComparison.Ordinal);

        Edit(paths[1], json =>
        {
            json["gpuinfo_partial"] = 3;
            json["counts"]!.AsObject().Remove("scored_words");
        });
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, _x, Vocab, _y), merged.Evaluation, "two version 3 shards", calibration: false);
        Assert.Null(merged.Evaluation!.Calibration);
        Assert.Equal(3, merged.Version);
        merged.Save(File("v.json"));
        Assert.Equal(3, (int)JsonNode.Parse(System.IO.File.ReadAllText(File("v.json")))!["gpuinfo_partial"]!);

        // Version 4 on needs the count; a later version than this library's is refused.
        string v4 = Eval(0, 1, "v4.json");
        Edit(v4, json => json["counts"]!.AsObject().Remove("scored_words"));
        Assert.Contains("scored_words", Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(v4)).Message, StringComparison.Ordinal);
        Edit(v4, json => json["gpuinfo_partial"] = CorpusPartial.FormatVersion + 1);
        Assert.Contains($"version {CorpusPartial.FormatVersion + 1}", Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(v4)).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Compare partials before version 5 have no reverse KL: they are read and merged with each other,
    /// the reverse KL unknown (NaN) rather than zero; from version 5 its sums are required.
    /// </summary>
    [Fact]
    public void A_version_4_compare_partial_is_read_without_the_reverse_kl()
    {
        string[] paths = [Compare(0, 2, "c0.json"), Compare(1, 2, "c1.json")];
        var current = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.True(current.HasReverseKl);
        Assert.True(current.MeanReverseKl > 0, $"mean reverse KL {current.MeanReverseKl}");

        string missing = Compare(0, 2, "missing.json");
        Edit(missing, json => json["exact_sums"]!.AsObject().Remove("reverse_kl_sq_sum"));
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(missing));
        Names(e, missing);
        Assert.Contains("exact_sums.reverse_kl_sq_sum is missing", e.Message, StringComparison.Ordinal);

        foreach (string path in paths)
        {
            Edit(path, json =>
            {
                json["gpuinfo_partial"] = 4;
                foreach (string name in new[] { "reverse_kl_sum", "reverse_kl_sq_sum" })
                {
                    json["exact_sums"]!.AsObject().Remove(name);
                    json["sums"]!.AsObject().Remove(name);
                }
            });
        }

        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
        var old = merged.Comparison!;
        Assert.Equal(4, merged.Version);
        Assert.False(old.HasReverseKl);
        Assert.True(double.IsNaN(old.MeanReverseKl) && double.IsNaN(old.MeanReverseKlError));
        Assert.Equal(current.MeanKl, old.MeanKl);
        merged.Save(File("v4-merged.json"));
        var saved = JsonNode.Parse(System.IO.File.ReadAllText(File("v4-merged.json")))!.AsObject();
        Assert.Equal(4, (int)saved["gpuinfo_partial"]!);
        Assert.False(saved["exact_sums"]!.AsObject().ContainsKey("reverse_kl_sum"));
    }

    /// <summary>A file source with byte and word counts per target made up from the row index.</summary>
    private sealed class CountingSource(RowSource inner) : RowSource
    {
        public static long Words(long row) => row % 3;

        public static long Bytes(long row) => (row % 5) + 1;

        public override long Rows => inner.Rows;

        public override int Vocab => inner.Vocab;

        public override ScalarType Type => inner.Type;

        public override bool HasTargets => true;

        public override bool HasTargetBytes => true;

        public override bool HasTargetWords => true;

        public override string Name => inner.Name;

        public override SourceDescription Describe() => inner.Describe();

        protected internal override void Read(RowBlock block)
        {
            inner.Read(block);
            for (int i = 0; i < block.Rows; i++)
            {
                block.TargetWords[i] = Words(block.FirstRow + i);
                block.TargetBytes[i] = Bytes(block.FirstRow + i);
            }
        }

        protected override void Dispose(bool disposing) => inner.Dispose();
    }

    [Fact]
    public void A_version_1_partial_is_refused()
    {
        string path = File("v1.json");
        System.IO.File.WriteAllText(path, "{\"gpuinfo_partial\": 1, \"kind\": \"eval\"}");
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path));
        Names(e, path);
        Assert.Contains("version 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+0xzzp0")]
    [InlineData("12.5")]
    [InlineData("")]
    [InlineData("+0x1p99999")]
    public void An_edited_exact_sum_is_refused(string junk)
    {
        string path = Eval(0, 1, "e.json");
        Edit(path, json => json["exact_sums"]!["nll_sum"] = junk);
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path));
        Names(e, path);
        Assert.Contains("nll_sum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_or_mistyped_fields_are_refused()
    {
        string path = Eval(0, 1, "e.json");
        string original = System.IO.File.ReadAllText(path);
        var edits = new (string Field, Action<JsonObject> Edit)[]
        {
            ("nll_sum", json => json["exact_sums"]!["nll_sum"] = 12.5),
            ("weight_sum", json => json["exact_sums"]!.AsObject().Remove("weight_sum")),
            ("counts", json => json.Remove("counts")),
            ("tokens", json => json["counts"]!["tokens"] = "many"),
            ("shard", json => json["shard"]!["count"] = 0),
            ("kind", json => json["kind"] = "train"),
            ("dtype", json => json["sources"]![0]!["dtype"] = "int8"),
            ("top1_hits", json => json["counts"]!["top1_hits"] = 1_000_000),
            ("rows_without_target", json => json["counts"]!["rows_without_target"] = 1_000_000),
        };
        foreach (var (field, edit) in edits)
        {
            System.IO.File.WriteAllText(path, original);
            Edit(path, edit);
            var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(path));
            Names(e, path);
            Assert.True(e.Message.Contains(field, StringComparison.Ordinal), $"{field}: {e.Message}");
        }
    }

    [Fact]
    public void Save_is_atomic_and_replaces_an_older_file()
    {
        using var source = MemoryRowSource.Float32(_x, Vocab, _y, "mem");
        var a = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(0, 2) });
        var b = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(1, 2) });
        string path = File("p.json");
        a.Save(path);
        b.Save(path);
        var loaded = CorpusPartial.Load(path);
        Assert.Equal(new Shard(1, 2), loaded.Shard);
        CorpusCheck.Same(b.Evaluation!, loaded.Evaluation, "saved over an older partial");
        Assert.DoesNotContain(Directory.GetFiles(_dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.Equal("memory", loaded.Sources[0].Kind);
        Assert.Equal("mem", loaded.Sources[0].Settings["name"]);
    }
}
