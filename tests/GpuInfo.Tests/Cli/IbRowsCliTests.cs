using GpuInfo.Formats;
using GpuInfo.Tests.Distributions;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary><c>ib</c> and <c>ib-curve</c> over rows of logits (issue 16): summary, outputs, progress, and one-line errors.</summary>
public sealed class IbRowsCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Ib_over_logits_recovers_groups_and_writes_assignments_and_decoders()
    {
        var planted = new PlantedLogits(groups: 3, perGroup: 10, vocab: 777, spread: 2, noise: 0.3, seed: Environment.TickCount);
        string logits = _dir.File("ctx.npy"), weights = _dir.File("w.npy"), vocab = _dir.File("vocab.txt");
        string assignments = _dir.File("a.npy"), decoders = _dir.File("d.npy");
        NpyFormat.Write(logits, planted.Values.Select(v => (Half)v).ToArray().AsSpan(), [planted.Rows, planted.Vocab]);
        NpyFormat.Write(weights, Enumerable.Range(0, planted.Rows).Select(i => 1.0 + (i % 4)).ToArray().AsSpan(), [planted.Rows]);
        File.WriteAllLines(vocab, Enumerable.Range(0, planted.Vocab).Select(i => $"w{i}"));

        var (code, stdout, stderr) = CliRunner.Run("ib", "--logits", logits, "--weights", weights, "--temperature", "1.3", "--beta", "100", "--clusters", "3",
            "--vocab", vocab, "--top-tokens", "4", "--assignments", assignments, "--decoders", decoders, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("iteration 1:", stderr, StringComparison.Ordinal);
        var report = System.Text.Json.Nodes.JsonNode.Parse(stdout)!.AsObject();
        var clusters = report["clusters"]!.AsArray();
        Assert.Equal(3, clusters.Count);
        Assert.Equal(planted.Rows, clusters.Sum(c => (int)c!["contexts"]!));
        Assert.All(clusters, c => Assert.Equal(4, c!["top_tokens"]!.AsArray().Count));
        Assert.StartsWith("w", (string)clusters[0]!["top_tokens"]![0]!["text"]!, StringComparison.Ordinal);
        Assert.Equal(1.0, clusters.Sum(c => (double)c!["mass"]!), 9);
        Assert.True((int)report["iterations"]! < 2 || (double)report["seconds_per_iteration"]! > 0, stdout);
        Assert.True((int)report["iterations"]! < 2 || (double)report["products_seconds_per_iteration"]! is > 0 and var p && p <= (double)report["seconds_per_iteration"]!, stdout);
        Assert.Matches(@"iteration 1: .*, \d+\.\d{3} s \(products \d+\.\d{3} s\)", stderr);

        var info = NpyFormat.Read(assignments);
        Assert.Equal([planted.Rows], info.Shape);
        var hard = new long[planted.Rows];
        using (var file = TargetsFile.Open(assignments))
        {
            file.Read(0, hard);
        }

        var groupOf = new Dictionary<int, long>();
        for (int i = 0; i < planted.Rows; i++)
        {
            Assert.Equal(groupOf.GetValueOrDefault(planted.Group[i], hard[i]), hard[i]);
            groupOf[planted.Group[i]] = hard[i];
        }

        Assert.Equal(3, groupOf.Values.Distinct().Count());
        Assert.Equal([3L, planted.Vocab], NpyFormat.Read(decoders).Shape);

        // Each cluster's top tokens are its decoder row's largest entries, largest first (ties: the lower token id).
        var q = MatrixFile.Read(decoders);
        foreach (var c in clusters)
        {
            int k = (int)c!["cluster"]!;
            var expected = Enumerable.Range(0, planted.Vocab).OrderByDescending(y => q[k, y]).Take(4).ToArray();
            Assert.Equal(expected, c["top_tokens"]!.AsArray().Select(t => (int)t!["token"]!).ToArray());
            var shown = c["top_tokens"]!.AsArray().Select(t => (double)t!["p"]!).ToArray();
            Assert.All(expected.Select((y, i) => (q[k, y], shown[i])), e => Assert.Equal(e.Item1, e.Item2, 1e-7 * e.Item1)); // the file holds float32
        }
    }

    /// <summary>Rows in several files are one set of contexts, in the order given: the same solution as one file.</summary>
    [Fact]
    public void Ib_over_several_files_is_ib_over_their_rows()
    {
        int seed = Environment.TickCount;
        var planted = new PlantedLogits(groups: 3, perGroup: 8, vocab: 301, spread: 2, noise: 0.3, seed: seed);
        string whole = _dir.File("all.npy"), first = _dir.File("a.npy"), second = _dir.File("b.npy"), assignments = _dir.File("parts.npy");
        int split = 10;
        NpyFormat.Write<float>(whole, planted.Values, [planted.Rows, planted.Vocab]);
        NpyFormat.Write<float>(first, planted.Values.AsSpan(0, split * planted.Vocab).ToArray(), [split, planted.Vocab]);
        NpyFormat.Write<float>(second, planted.Values.AsSpan(split * planted.Vocab).ToArray(), [planted.Rows - split, planted.Vocab]);
        string[] solve = ["--beta", "50", "--clusters", "3", "--seed", "7", "--device", "cpu"];
        var one = CliRunner.Json(["ib", "--logits", whole, .. solve]);
        var parts = CliRunner.Json(["ib", "--logits", first, second, "--assignments", assignments, .. solve]);
        foreach (string key in new[] { "i_xt_bits", "i_ty_bits", "h_t_bits", "i_xy_bits" })
        {
            Assert.True(Math.Abs(CliRunner.Number(one[key]) - CliRunner.Number(parts[key])) <= 1e-6 * Math.Abs(CliRunner.Number(one[key])) + 1e-9,
                $"{key}: one file {one[key]}, two files {parts[key]} (seed {seed})");
        }

        Assert.Equal([planted.Rows], NpyFormat.Read(assignments).Shape);
        Assert.Equal(planted.Rows, parts["clusters"]!.AsArray().Sum(c => (int)c!["contexts"]!));
        string other = _dir.File("v.npy");
        NpyFormat.Write<float>(other, new float[2 * (planted.Vocab + 1)], [2, planted.Vocab + 1]);
        CliRunner.Fails(3, [other, $"vocabulary {planted.Vocab + 1}"], "ib", "--logits", first, other, "--beta", "1", "--device", "cpu");
    }

    [Fact]
    public void Top_token_probabilities_keep_three_significant_digits()
    {
        // At vocabulary scale a decoder's top tokens are often below 0.001: fixed decimals printed them all as 0.000.
        var clusters = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["cluster"] = 2, ["mass"] = 0.25, ["contexts"] = 7,
            ["top_tokens"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["token"] = 11396, ["p"] = 0.000123456 },
                new System.Text.Json.Nodes.JsonObject { ["token"] = 5, ["text"] = "a\nb", ["p"] = 0.5 }),
        });
        var (key, value) = Assert.Single(GpuInfo.Cli.Verbs.IbRowsInput.ClusterLines(clusters));
        Assert.Equal("cluster 2", key);
        Assert.Equal("mass 0.2500  contexts 7  top: 11396 0.000123 'a\\nb' 0.5", value);
    }

    [Fact]
    public void Ib_curve_over_logits_reports_points_and_transitions()
    {
        var planted = new PlantedLogits(groups: 2, perGroup: 6, vocab: 150, spread: 1.5, noise: 0.2, seed: 3);
        string logits = _dir.File("ctx.npy");
        NpyFormat.Write(logits, planted.Values.AsSpan(), [planted.Rows, planted.Vocab]);
        var report = CliRunner.Json("ib-curve", "--logits", logits, "--beta-min", "0.05", "--beta-max", "20", "--steps", "5", "--clusters", "3");
        var points = report["points"]!.AsArray();
        Assert.Equal(5, points.Count);
        Assert.Equal(1, (int)points[0]!["clusters_used"]!);
        Assert.Equal(2, (int)points[^1]!["clusters_used"]!);
        Assert.NotEmpty(report["transitions"]!.AsArray());
        Assert.Contains("cpu", (string)report["products"]!, StringComparison.Ordinal);
        Assert.Contains("distributions resident", (string)report["products"]!, StringComparison.Ordinal);
        var streamed = CliRunner.Json("ib-curve", "--logits", logits, "--beta-min", "0.05", "--beta-max", "20", "--steps", "5", "--clusters", "3", "--resident-mib", "0");
        Assert.DoesNotContain("resident", (string)streamed["products"]!, StringComparison.Ordinal);
        Assert.Equal(report["points"]!.ToJsonString(), streamed["points"]!.ToJsonString());
    }

    [Fact]
    public void Bad_rows_weights_and_option_mixes_are_one_line_errors()
    {
        string logits = _dir.File("ctx.npy"), weights = _dir.File("w.npy"), probs = _dir.File("p.npy"), negative = _dir.File("neg.npy");
        var values = Enumerable.Range(0, 8 * 5).Select(i => (float)(i % 7)).ToArray();
        values[6 * 5 + 2] = float.NaN;
        NpyFormat.Write(logits, values.AsSpan(), [8, 5]);
        NpyFormat.Write(weights, new[] { 1.0, 2.0 }.AsSpan(), [2]);
        NpyFormat.Write(probs, Enumerable.Repeat(0.3f, 4 * 5).ToArray().AsSpan(), [4, 5]);
        NpyFormat.Write(negative, new[] { 1.0, -1.0, 1.0, 1.0 }.AsSpan(), [4]);

        CliRunner.Fails(3, ["ctx.npy", "row 6", "NaN"], "ib", "--logits", logits, "--beta", "1", "--clusters", "2");
        CliRunner.Fails(3, ["p.npy", "row 0", "sum to 1.5"], "ib", "--probs", probs, "--beta", "1", "--clusters", "2");
        CliRunner.Fails(3, ["w.npy", "2 weights for 8 rows"], "ib", "--logits", logits, "--weights", weights, "--beta", "1");
        CliRunner.Fails(3, ["neg.npy", "weight 1 is -1"], "ib", "--probs", probs, "--weights", negative, "--beta", "1");
        CliRunner.Fails(2, ["exactly one of --joint, --logits, --probs or --model"], "ib", "--logits", logits, "--joint", logits, "--beta", "1");
        CliRunner.Fails(2, ["exactly one of"], "ib-curve", "--beta-min", "1", "--beta-max", "2", "--steps", "2");
        CliRunner.Fails(2, ["--temperature applies to --logits"], "ib", "--probs", probs, "--temperature", "2", "--beta", "1");
        CliRunner.Fails(2, ["--temperature must be finite and > 0"], "ib", "--logits", logits, "--temperature", "0", "--beta", "1");
        CliRunner.Fails(2, ["--resident-mib must be >= 0"], "ib", "--logits", logits, "--resident-mib", "-1", "--beta", "1");
        CliRunner.Fails(2, ["--resident-mib applies to --logits and --probs"], "ib", "--joint", probs, "--resident-mib", "1", "--beta", "1");

        // No rows is the file's fault (exit 3, naming it), not a usage error; a --vocab of more names than classes is another vocabulary's.
        string empty = _dir.File("empty.npy"), vocab = _dir.File("vocab.txt");
        NpyFormat.Write(empty, Array.Empty<float>().AsSpan(), [0, 5]);
        CliRunner.Fails(3, ["empty.npy", "0 rows"], "ib", "--probs", empty, "--beta", "1", "--clusters", "2");
        File.WriteAllLines(vocab, ["a", "b", "c", "d", "e", "f"]);
        CliRunner.Fails(3, ["vocab.txt", "6 token strings for a vocabulary of 5"], "ib", "--logits", Logits(), "--vocab", vocab, "--beta", "1", "--clusters", "2");
    }

    private string Logits()
    {
        string path = _dir.File("clean.npy");
        NpyFormat.Write(path, Enumerable.Range(0, 8 * 5).Select(i => (float)(i % 7)).ToArray().AsSpan(), [8, 5]);
        return path;
    }
}
