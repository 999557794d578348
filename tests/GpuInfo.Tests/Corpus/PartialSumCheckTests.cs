using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// Sums that no tokens give are refused when partials are merged: exit 3 (bad data), one line naming
/// the file and the field. Each test writes the two shard partials of a real run, checks that they
/// merge, damages one field of the second (an exact sum together with its rounded copy in "sums", as
/// a careful edit would, so that only the check under test can tell) and merges again. Partials of
/// runs at the edges of what is legitimate still merge.
/// </summary>
public sealed class PartialSumCheckTests : IClassFixture<CorpusEngineFixture>, IDisposable
{
    private const int Rows = 23, Vocab = 37;
    private readonly InfoEngine _engine;
    private readonly TempDir _dir = new();
    private readonly TestData _data = new(300);
    private readonly float[] _x;
    private readonly long[] _y;

    public PartialSumCheckTests(CorpusEngineFixture fixture)
    {
        _engine = fixture.Engine;
        _x = _data.Logits(Rows, Vocab);
        _y = CorpusCheck.Targets(_data, Rows, Vocab, 0.2);
        NpyFormat.Write<float>(_dir.File("x.npy"), _x, [Rows, Vocab]);
        NpyFormat.Write<long>(_dir.File("y.npy"), _y, [Rows]);
        NpyFormat.Write<float>(_dir.File("q.npy"), _data.Perturbed(_x, 0.2), [Rows, Vocab]);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Both shards of an evaluation of x.npy against y.npy.</summary>
    private string[] Eval(CrossEntropyOptions? options = null) => [.. Enumerable.Range(0, 2).Select(i =>
    {
        using var source = FileRowSource.Open(_dir.File("x.npy"), _dir.File("y.npy"));
        string path = _dir.File($"e{i}.json");
        CorpusRun.Evaluate(_engine, source, options, new CorpusRunOptions { Shard = new Shard(i, 2), PartialPath = path });
        return path;
    })];

    /// <summary>Both shards of x.npy compared with q.npy, with the targets of y.npy or none, and the top-3 agreement.</summary>
    private string[] Compare(bool targets = true) => [.. Enumerable.Range(0, 2).Select(i =>
    {
        using var baseSource = targets ? FileRowSource.Open(_dir.File("x.npy"), _dir.File("y.npy")) : FileRowSource.Open(_dir.File("x.npy"));
        using var testSource = FileRowSource.Open(_dir.File("q.npy"));
        string path = _dir.File($"c{i}.json");
        CorpusRun.Compare(_engine, baseSource, testSource, run: new CorpusRunOptions { Shard = new Shard(i, 2), PartialPath = path, TopK = [3] });
        return path;
    })];

    private string[] Parts(string kind) => kind == "eval" ? Eval() : Compare();

    /// <summary>The parts merge; with <paramref name="damage"/> done to the second, merge names it and every fragment, and exits 3.</summary>
    private static void Refused(string[] parts, Action<JsonObject> damage, params string[] fragments)
    {
        CliRunner.Json(["merge", .. parts]);
        var json = JsonNode.Parse(File.ReadAllText(parts[1]))!.AsObject();
        damage(json);
        File.WriteAllText(parts[1], json.ToJsonString());
        CliRunner.Fails(ExitCode.BadData, [parts[1], .. fragments], ["merge", .. parts]);
    }

    private static double Exact(JsonObject json, string name) => ExactSum.Parse((string)json["exact_sums"]![name]!).Value;

    private static long Tokens(JsonObject json) => (long)json["counts"]!["tokens"]!;

    /// <summary>Sets an exact sum and its rounded copy.</summary>
    private static void SetSum(JsonObject json, string name, double value)
    {
        json["exact_sums"]![name] = ExactText(value);
        json["sums"]![name] = value;
    }

    private static string ExactText(double value)
    {
        var sum = default(ExactSum);
        sum.Add(value);
        return sum.ToExactString();
    }

    [Theory]
    [InlineData("eval", "nll_sum")]
    [InlineData("eval", "entropy_sum")]
    [InlineData("compare", "kl_sum")]
    [InlineData("compare", "reverse_kl_sum")]
    [InlineData("compare", "nll_sum_base")]
    [InlineData("compare", "nll_sum_test")]
    public void A_negative_sum_of_a_measure_that_cannot_be_negative_is_refused(string kind, string name) =>
        // Negated, the sum still agrees with its squares: only its sign can give it away.
        Refused(Parts(kind), json => SetSum(json, name, -Exact(json, name)), $"exact_sums.{name} is -", "cannot be negative");

    [Theory]
    [InlineData("eval", "nll_sum", "nll_sq_sum")]
    [InlineData("eval", "entropy_sum", "entropy_sq_sum")]
    [InlineData("compare", "kl_sum", "kl_sq_sum")]
    [InlineData("compare", "reverse_kl_sum", "reverse_kl_sq_sum")]
    [InlineData("compare", "js_sum", "js_sq_sum")]
    [InlineData("compare", "tv_sum", "tv_sq_sum")]
    [InlineData("compare", "nll_sum_base", "nll_sq_sum_base")]
    [InlineData("compare", "nll_sum_test", "nll_sq_sum_test")]
    [InlineData("compare", "delta_p_sum", "delta_p_sq_sum")]
    [InlineData("compare", "delta_p_sq_sum", "delta_p_4_sum")]
    [InlineData("compare", "ln_ratio_sum", "ln_ratio_sq_sum")]
    [InlineData("compare", "brier_diff_sum", "brier_diff_sq_sum")]
    public void A_sum_of_squares_below_what_its_sum_needs_is_refused(string kind, string name, string squares) =>
        // n values summing to s have squares summing to at least s²/n; half that, within every other bound, is refused.
        Refused(Parts(kind), json => SetSum(json, squares, Exact(json, name) * Exact(json, name) / Tokens(json) / 2), $"exact_sums.{squares} is", "at least");

    [Fact]
    public void A_negative_sum_of_squares_is_refused() =>
        Refused(Eval(), json => SetSum(json, "entropy_sq_sum", -1), "exact_sums.entropy_sq_sum is -1", "cannot be negative");

    [Theory]
    [InlineData("js_sum", 0.8)] // JS is at most ln 2
    [InlineData("js_sq_sum", 0.5)]
    [InlineData("delta_p_sum", -1.5)] // Δp is within [-1, 1]
    [InlineData("delta_p_4_sum", 1.5)]
    [InlineData("brier_diff_sum", 2.5)] // a difference of Brier scores is within [-2, 2]
    public void A_sum_beyond_its_measures_bounds_is_refused(string name, double perToken) =>
        Refused(Compare(), json => SetSum(json, name, perToken * Tokens(json)), $"exact_sums.{name} is", "each in");

    [Fact]
    public void A_top_k_overlap_sum_beyond_the_token_count_is_refused() =>
        Refused(Compare(), json => json["top_k_agreement"]!["3"]!["overlap_sum"] = ExactText(1.5 * Tokens(json)), "top_k_agreement.3.overlap_sum is", "each in [0, 1]");

    [Fact]
    public void A_weight_sum_other_than_the_token_count_is_refused_without_class_weights() =>
        Refused(Eval(), json => SetSum(json, "weight_sum", 4 * Tokens(json)), "exact_sums.weight_sum is", "the token count");

    [Fact]
    public void A_negative_weight_sum_is_refused_with_class_weights()
    {
        var parts = Eval(new CrossEntropyOptions { ClassWeights = _data.Weights(Vocab) });
        var json = JsonNode.Parse(File.ReadAllText(parts[1]))!.AsObject();
        Assert.NotEqual(Tokens(json), Exact(json, "weight_sum")); // and they merge (below)
        Refused(parts, json => SetSum(json, "weight_sum", -1), "exact_sums.weight_sum is -1", "class weights");
    }

    [Fact]
    public void A_cross_product_beyond_both_sums_of_squares_is_refused() =>
        Refused(Compare(), json => SetSum(json, "nll_cross_sum", 10 * Exact(json, "nll_cross_sum")), "exact_sums.nll_cross_sum is", "nll_sq_sum_base");

    [Fact]
    public void A_brier_difference_other_than_the_calibrations_is_refused() =>
        // Negated, it keeps its squares and bounds; only the two calibrations' Brier sums tell.
        Refused(Compare(), json => SetSum(json, "brier_diff_sum", -Exact(json, "brier_diff_sum")), "exact_sums.brier_diff_sum is", "calibration_test");

    [Fact]
    public void Brier_squares_below_what_the_brier_sum_needs_are_refused() => Refused(Eval(), json =>
    {
        var calibration = json["calibration"]!;
        double sum = ExactSum.Parse((string)calibration["brier_sum"]!).Value;
        calibration["brier_sq_sum"] = ExactText(sum * sum / Tokens(json) / 2);
    }, "brier_sq_sum is", "at least");

    [Theory]
    [InlineData("kl_sketch")]
    [InlineData("delta_p_sketch")]
    public void A_sketch_whose_min_is_above_its_max_is_refused(string sketch) =>
        Refused(Compare(), json => json[sketch]!["min"] = (double)json[sketch]!["max"]! + 1, $"{sketch}.min", "is above");

    /// <summary>A negative bin count named the sketch's own index (the serialised bin 2150 as "histogram bin 2151").</summary>
    [Fact]
    public void A_negative_bin_count_is_named_by_its_key_in_the_file()
    {
        var parts = Compare();
        string key = JsonNode.Parse(File.ReadAllText(parts[1]))!["kl_sketch"]!["bins"]!.AsObject().First().Key;
        Refused(parts, json => json["kl_sketch"]!["bins"]![key] = -5, $"histogram bin {key} has a negative count (-5)");
    }

    [Fact]
    public void An_empty_sketch_with_a_range_is_refused() =>
        Refused(Compare(targets: false), json =>
        {
            json["delta_p_sketch"]!["min"] = -0.5;
            json["delta_p_sketch"]!["max"] = 0.5;
        }, "delta_p_sketch holds no values");

    [Theory]
    [InlineData("eval", "nll_sum")]
    [InlineData("compare", "kl_sum")]
    public void A_rounded_sum_other_than_its_exact_sum_is_refused(string kind, string name) =>
        Refused(Parts(kind), json => json["sums"]![name] = Exact(json, name) + 1, $": sums.{name} is", $"exact_sums.{name} is");

    [Fact]
    public void An_infinite_kl_stays_the_max_of_the_merged_shards()
    {
        // A test model that gives a base model's token no probability: that row's KL is +inf, which a
        // partial writes as a null max; read back as an empty sketch's -inf, the merged max was finite.
        var q = _data.Perturbed(_x, 0.2);
        q[(3 * Vocab) + 5] = float.NegativeInfinity;
        using var baseSource = MemoryRowSource.Float32(_x, Vocab);
        using var testSource = MemoryRowSource.Float32(q, Vocab);
        Assert.Equal(double.PositiveInfinity, CorpusRun.Compare(_engine, baseSource, testSource).Comparison!.KlSketch.Max);
        var parts = Enumerable.Range(0, 2).Select(i =>
        {
            string path = _dir.File($"inf{i}.json");
            CorpusRun.Compare(_engine, baseSource, testSource, run: new CorpusRunOptions { Shard = new Shard(i, 2), PartialPath = path });
            return path;
        }).ToArray();
        Assert.Equal(double.PositiveInfinity, CorpusPartial.Load(parts[0]).Comparison!.KlSketch.Max);
        var merged = CorpusPartial.Merge(parts.Select(CorpusPartial.Load)).Comparison!;
        Assert.Equal(double.PositiveInfinity, merged.KlSketch.Max);
        Assert.Equal(double.PositiveInfinity, merged.KlSum);
    }

    [Fact]
    public void Partials_of_runs_at_the_edges_of_their_measures_merge()
    {
        // Near-certain rows (losses and entropies about 0, where float32 may fall just below it), every
        // loss option at once with class weights of 0, identical and masked models, shards without rows.
        var peaked = (float[])_x.Clone();
        for (int r = 0; r < Rows; r++)
        {
            peaked[(r * Vocab) + (int)Math.Max(0, _y[r])] += 60;
        }

        var masked = (float[])_x.Clone();
        _data.Mask(masked, Vocab, 0.2);
        var weights = _data.Weights(Vocab);
        weights[0] = 0;
        var options = new CrossEntropyOptions { LabelSmoothing = 0.3f, ZLoss = 1e-3f, Temperature = 0.5f, ClassWeights = weights };
        using var plain = MemoryRowSource.Float32(_x, Vocab, _y);
        using var peakedRows = MemoryRowSource.Float32(peaked, Vocab, _y);
        using var same = MemoryRowSource.Float32(_x, Vocab);
        using var close = MemoryRowSource.Float32(_data.Perturbed(_x, 1e-6), Vocab);
        using var closePeaked = MemoryRowSource.Float32(_data.Perturbed(peaked, 1e-3), Vocab);
        using var maskedRows = MemoryRowSource.Float32(masked, Vocab);
        var runs = new (string Name, Func<CorpusRunOptions, CorpusPartial> Run)[]
        {
            ("near-certain rows", r => CorpusRun.Evaluate(_engine, peakedRows, null, r)),
            ("every loss option", r => CorpusRun.Evaluate(_engine, plain, options, r)),
            ("identical models", r => CorpusRun.Compare(_engine, plain, same, run: r)),
            ("near-identical models", r => CorpusRun.Compare(_engine, plain, close, run: r)),
            ("near-certain models", r => CorpusRun.Compare(_engine, peakedRows, closePeaked, 0.25f, run: r)),
            ("a masked test model", r => CorpusRun.Compare(_engine, plain, maskedRows, run: r)),
        };
        foreach (var (name, run) in runs)
        {
            foreach (int count in new[] { 3, Rows + 4 })
            {
                var parts = Enumerable.Range(0, count).Select(i =>
                {
                    string path = _dir.File($"edge{i}.json");
                    run(new CorpusRunOptions { Shard = new Shard(i, count), TopK = [1, 3] }).Save(path);
                    return path;
                }).ToArray();
                var (code, _, stderr) = CliRunner.Run(["merge", .. parts, "--json"]);
                Assert.True(code == 0, $"{name}, {count} shards: {stderr}");
            }
        }
    }
}
