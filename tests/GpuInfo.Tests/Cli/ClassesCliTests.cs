using GpuInfo.Formats;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Models;

namespace GpuInfo.Tests.Cli;

/// <summary>compare and compare-models --classes: models whose vocabularies differ in padding, compared over the classes both have.</summary>
public sealed class ClassesCliTests : IDisposable
{
    private const int Batches = 3, Positions = 41, Vocab = 257, Padding = 19;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>[3, 41, 257] base and test logits, the test also padded to 276 classes (logits 50 below each row's top), and targets.</summary>
    private (string Base, string Test, string Padded, string Targets) Files(float padding = -50f)
    {
        var rng = new Random(5);
        int rows = Batches * Positions;
        var p = new float[rows * Vocab];
        var q = new float[rows * Vocab];
        var padded = new float[rows * (Vocab + Padding)];
        for (int r = 0; r < rows; r++)
        {
            for (int v = 0; v < Vocab + Padding; v++)
            {
                if (v < Vocab)
                {
                    p[(r * Vocab) + v] = (float)(rng.NextDouble() * 6 - 3);
                    q[(r * Vocab) + v] = p[(r * Vocab) + v] + (float)(rng.NextDouble() - 0.5);
                }

                padded[(r * (Vocab + Padding)) + v] = v < Vocab ? q[(r * Vocab) + v] : padding;
            }
        }

        NpyFormat.Write<float>(_dir.File("base.npy"), p, [Batches, Positions, Vocab]);
        NpyFormat.Write<float>(_dir.File("test.npy"), q, [Batches, Positions, Vocab]);
        NpyFormat.Write<float>(_dir.File("padded.npy"), padded, [Batches, Positions, Vocab + Padding]);
        NpyFormat.Write<long>(_dir.File("targets.npy"), [.. Enumerable.Range(0, rows).Select(r => (long)(r * 31 % Vocab))], [Batches, Positions]);
        return (_dir.File("base.npy"), _dir.File("test.npy"), _dir.File("padded.npy"), _dir.File("targets.npy"));
    }

    [Fact]
    public void A_padded_test_model_compares_as_its_unpadded_self_and_its_shards_merge()
    {
        var (p, q, padded, targets) = Files();
        var plain = CliRunner.Json("compare", "--base", p, "--test", q, "--targets", targets);
        var cut = CliRunner.Json("compare", "--base", p, "--test", padded, "--targets", targets, "--classes", $"{Vocab}");
        foreach (string key in new[] { "tokens", "mean_kld", "mean_js", "mean_tvd", "acceptance_rate", "same_top1", "ppl_test", "mean_delta_p" })
        {
            Assert.Equal(plain[key]!.ToJsonString(), cut[key]!.ToJsonString());
        }

        for (int i = 0; i < 3; i++)
        {
            CliRunner.Json("compare", "--base", p, "--test", padded, "--targets", targets, "--classes", $"{Vocab}", "--shard", $"{i}/3", "--partial", _dir.File($"part{i}.json"));
        }

        Assert.Equal(cut["mean_kld"]!.ToJsonString(), CliRunner.Json("merge", _dir.File("part0.json"), _dir.File("part1.json"), _dir.File("part2.json"))["mean_kld"]!.ToJsonString());
        Assert.Contains("\"classes_of\": \"276\"", File.ReadAllText(_dir.File("part0.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Vocabularies_that_differ_are_an_error_that_names_the_option_and_classes_that_are_not_padding_an_error_naming_the_row()
    {
        var (p, _, padded, _) = Files(padding: 2f);
        CliRunner.Fails(3, ["padded.npy", $"--classes {Vocab} compares the classes both have"], "compare", "--base", p, "--test", padded);
        CliRunner.Fails(3, ["padded.npy: row 0:", "beyond the first 257 of its 276 classes"], "compare", "--base", p, "--test", padded, "--classes", $"{Vocab}");
        CliRunner.Fails(3, ["base.npy", "fewer classes than --classes 258"], "compare", "--base", p, "--test", padded, "--classes", "258");
        CliRunner.Fails(2, ["--classes must be at least 1"], "compare", "--base", p, "--test", padded, "--classes", "0");

        // Shapes that differ in their rows, not their classes: no hint.
        NpyFormat.Write<float>(_dir.File("flat.npy"), CliRunner.NpyValues<float>(_dir.File("test.npy")), [Batches * Positions, Vocab]);
        var (_, _, stderr) = CliRunner.Run("compare", "--base", p, "--test", _dir.File("flat.npy"));
        Assert.DoesNotContain("--classes", stderr, StringComparison.Ordinal);
        Assert.EndsWith($"({p}).\n", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_with_padding_classes_compares_as_its_unpadded_twin()
    {
        string[] text = ["--tokens", ModelFiles.Path("sample_tokens.npy"), "--context", "32", "--device", "cpu"];
        string bigram = ModelFiles.Path("bigram.onnx"), padded = ModelFiles.Path("bigram_padded.onnx");
        CliRunner.Fails(3, ["bigram_padded.onnx", "--classes 300"], ["compare-models", "--base", bigram, "--test", padded, .. text]);
        var report = CliRunner.Json(["compare-models", "--base", bigram, "--test", padded, "--classes", "300", .. text]);
        Assert.Equal(0, CliRunner.Number(report["mean_kld"]));
        Assert.Equal(1, CliRunner.Number(report["acceptance_rate"]));
        Assert.Equal(CliRunner.Number(report["ppl_base"]), CliRunner.Number(report["ppl_test"]));
    }
}
