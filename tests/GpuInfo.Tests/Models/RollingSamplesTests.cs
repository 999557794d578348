using System.Text.Json.Nodes;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>perplexity --samples</c>: lm-evaluation-harness's samples of a <c>loglikelihood_rolling</c> task
/// (samples_rolling.jsonl, written by its own EvaluationTracker over HFLM.loglikelihood_rolling transcribed with
/// window.onnx in float64 at max_length 16: make_loglikelihood_reference.py) scored again beside the harness's own
/// log-likelihoods, the rates over the words and bytes the task counted.
/// </summary>
public sealed class RollingSamplesTests
{
    private static readonly string Samples = ModelFiles.Path("samples_rolling.jsonl");

    private static string[] Run(params string[] more) =>
        ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", Samples, "--context", "16", "--device", "cpu", .. more];

    [Fact]
    public void Samples_score_beside_the_harness_own_scores()
    {
        using var dir = new TempDir();
        string perDocument = dir.File("documents.jsonl");
        var report = CliRunner.Json(Run("--per-document", perDocument, "--prefix-token", "7")); // the harness's prefix_token_id
        var logged = File.ReadAllLines(Samples).Select(l => JsonNode.Parse(l)!).ToArray();
        double ll = 0;
        long words = 0, bytes = 0;
        foreach (var sample in logged)
        {
            ll += double.Parse((string)sample["filtered_resps"]![0]!, System.Globalization.CultureInfo.InvariantCulture);
            words += (long)sample["word_perplexity"]![1]!;
            bytes += (long)sample["byte_perplexity"]![1]!;
        }

        Assert.Equal(7, (int)report["prefix_token"]!);
        Assert.Equal(words, (long)report["words"]!);
        Assert.Equal(bytes, (long)report["bytes"]!);
        Assert.Equal(0, (long)report["unscored"]!);
        Assert.True((int)report["windows"]! > logged.Length, "documents of several windows");

        // The harness's weighted_perplexity and bits_per_byte of its own log-likelihoods.
        Assert.Equal(Math.Exp(-(ll / words)), CliRunner.Number(report["harness_word_perplexity"]), Math.Exp(-(ll / words)) * 1e-12);
        Assert.Equal(Math.Exp(-(ll / bytes)), CliRunner.Number(report["harness_byte_perplexity"]), Math.Exp(-(ll / bytes)) * 1e-12);
        Assert.Equal(-(ll / bytes) / Math.Log(2), CliRunner.Number(report["harness_bits_per_byte"]), 1e-12);

        // This run's, from window.onnx in float32: the same documents, the same figures to float32's digits.
        Assert.True(CliRunner.Number(report["loglikelihood_max_abs_diff"]) < 1e-4, $"{report["loglikelihood_max_abs_diff"]}");
        foreach (string rate in (string[])["word_perplexity", "byte_perplexity", "bits_per_byte"])
        {
            double harness = CliRunner.Number(report[$"harness_{rate}"]), ours = CliRunner.Number(report[rate]);
            Assert.True(Math.Abs(ours - harness) <= 1e-5 * harness, $"{rate}: {ours} against the harness's {harness}");
        }

        var lines = File.ReadAllLines(perDocument).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(logged.Length, lines.Length);
        for (int d = 0; d < lines.Length; d++)
        {
            double harness = double.Parse((string)logged[d]["filtered_resps"]![0]!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(-harness, CliRunner.Number(lines[d]["loss_sum"]), 1e-4);
        }

        // The paired difference of the documents' log-likelihoods, this run's less the harness's.
        double[] differences = [.. lines.Select((l, d) => -CliRunner.Number(l["loss_sum"]) - double.Parse((string)logged[d]["filtered_resps"]![0]!, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(differences.Average(), CliRunner.Number(report["loglikelihood_diff"]), 1e-6);
        Assert.Equal(differences.Max(Math.Abs), CliRunner.Number(report["loglikelihood_max_abs_diff"]), 1e-6);
        Assert.True(CliRunner.Number(report["loglikelihood_diff_stderr"]) is > 0 and < 1e-4);
    }

    [Fact]
    public void What_would_change_the_comparison_is_refused()
    {
        CliRunner.Fails(2, ["--protocol sliding: --samples are a loglikelihood_rolling task's documents"], Run("--protocol", "sliding"));
        CliRunner.Fails(2, ["--samples compares one whole run"], Run("--shard", "0/2"));
        CliRunner.Fails(2, ["--samples compares one whole run"], Run("--partial", "x.json"));
        CliRunner.Fails(2, ["--samples hold each document's words and bytes"], Run("--total-words", "10"));
        CliRunner.Fails(2, ["--per-token-measure: with --samples"], Run("--per-token", "x.npy", "--per-token-measure", "entropy"));
        CliRunner.Fails(2, ["--text-field applies to --text"], Run("--text-field", "page"));
        CliRunner.Fails(2, ["give --text (with --tokenizer), --tokens or --samples (with --tokenizer), one of them"], [.. Run(), "--text", Samples]);
        CliRunner.Fails(3, ["samples_lambada.jsonl:1", "\"arguments\" is not one text"],
            ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", ModelFiles.Path("samples_lambada.jsonl")]);
        CliRunner.Fails(3, ["samples_rolling.jsonl:1", "give its samples to gpuinfo perplexity --samples"],
            ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", Samples]);
    }

    [Theory]
    [InlineData("\"word_perplexity\": [-10.5, 0]", "\"word_perplexity\" is [-10.5, 0], not [its log-likelihood, a count of at least 1]")]
    [InlineData("\"word_perplexity\": [-9.5, 3]", "\"word_perplexity\" is [-9.5, 3], not [its log-likelihood")]
    [InlineData("\"other\": 1", "has no \"word_perplexity\", \"byte_perplexity\" or \"bits_per_byte\"")]
    public void A_sample_that_is_not_the_harness_is_refused_naming_its_line(string metrics, string problem)
    {
        using var dir = new TempDir();
        string file = dir.File("samples.jsonl");
        File.WriteAllLines(file, [File.ReadAllLines(Samples)[0], """{"doc_id": 1, "arguments": {"gen_args_0": {"arg_0": "The model"}}, "filtered_resps": ["-10.5"], """ + metrics + "}"]);
        CliRunner.Fails(3, [$"{file}:2", problem], ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", file]);
    }
}
