using System.Text.Json.Nodes;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Samples as lm-evaluation-harness 0.4.0-0.4.2 logged them (legacy/pretrained__window_TASK.jsonl: one JSON array of the
/// same records, written as v0.4.2's __main__.py writes them by make_loglikelihood_reference.py) give every verb the
/// report the same run's samples in 0.4.3's shape (samples_TASK.jsonl) give, but for the files' names.
/// </summary>
public sealed class LegacySamplesTests
{
    private static string Legacy(string task) => ModelFiles.Path(Path.Combine("legacy", $"pretrained__window_{task}.jsonl"));

    private static readonly string[] Timings = ["seconds", "tokens_per_second", "load_seconds", "tokenize_seconds", "model_seconds", "other_seconds", "outside_model_fraction"];

    /// <summary>The two reports, their paths and timings left out, are the same JSON.</summary>
    private static void SameReport(JsonObject modern, JsonObject legacy, Func<string, string>? renamed = null)
    {
        var kept = modern.Where(kv => !Timings.Contains(kv.Key) && kv.Value?.GetValueKind() != System.Text.Json.JsonValueKind.String || kv.Key == "task").ToArray();
        Assert.True(kept.Length >= 4, "the report holds figures");
        foreach (var (key, value) in kept)
        {
            var other = legacy[renamed?.Invoke(key) ?? key];
            Assert.True(JsonNode.DeepEquals(value, other), $"{key}: {value?.ToJsonString()} from the samples of 0.4.3's shape, {other?.ToJsonString()} from 0.4.2's");
        }
    }

    [Theory]
    [InlineData("choices")]
    [InlineData("lambada")]
    [InlineData("winogrande")]
    public void Loglikelihood_samples_score_as_the_later_shape(string task)
    {
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--prefix-token", "7", "--context", "64", "--device", "cpu", "--bootstrap-iters", "200", "--json", "--samples"];
        SameReport(CliRunner.Json([.. run, ModelFiles.Path($"samples_{task}.jsonl")]), CliRunner.Json([.. run, Legacy(task)]));
    }

    [Fact]
    public void Rolling_samples_score_as_the_later_shape()
    {
        string[] run = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--context", "16", "--prefix-token", "7", "--device", "cpu", "--json", "--samples"];
        SameReport(CliRunner.Json([.. run, ModelFiles.Path("samples_rolling.jsonl")]), CliRunner.Json([.. run, Legacy("rolling")]));
    }

    [Fact]
    public void Two_runs_compare_as_the_later_shape_each_filter_by_its_place()
    {
        string[] Run(Func<string, string> path, string task) => ["compare-samples", "--base", path($"paired_base_{task}"), "--test", path($"paired_test_{task}"), "--json"];
        SameReport(CliRunner.Json(Run(t => ModelFiles.Path($"samples_{t}.jsonl"), "choices")), CliRunner.Json(Run(Legacy, "choices")));

        // GSM8K's two filters, which 0.4.2 logs one after the other without naming them: the k-th time a document is
        // logged it is under the task's k-th filter.
        SameReport(CliRunner.Json(Run(t => ModelFiles.Path($"samples_{t}.jsonl"), "gsm8k")), CliRunner.Json(Run(Legacy, "gsm8k")),
            key => key.Replace("strict-match", "filter-1", StringComparison.Ordinal).Replace("flexible-extract", "filter-2", StringComparison.Ordinal));
    }

    [Fact]
    public void Python_literals_are_numbers_and_bad_arrays_are_named()
    {
        // json.dumps writes a -inf log-likelihood as -Infinity; the same word in a string is text.
        var records = JsonNode.Parse(File.ReadAllText(Legacy("lambada")))!.AsArray();
        records[2]!["doc"]!["text"] = "-Infinity and NaN, \"quoted\" -Infinity";
        string text = records.ToJsonString();
        string ll = records[3]!["filtered_resps"]![0]![0]!.ToJsonString();
        Assert.Equal(4, text.Split(ll).Length); // in resps, filtered_resps and perplexity alone
        text = text.Replace(ll, "-Infinity", StringComparison.Ordinal);
        using var dir = new TempDir();
        string file = dir.File("pretrained__gpt2_lambada.jsonl");
        File.WriteAllText(file, text);
        string lines = dir.File("lines.jsonl");
        var report = CliRunner.Json("compare-samples", "--base", Legacy("lambada"), "--test", file, "--per-document", lines, "--json");
        Assert.Equal(records.Count, (int)report["requests"]!);
        var line = JsonNode.Parse(File.ReadAllLines(lines)[3])!;
        Assert.Null(line["loglikelihood"]); // -inf, which JSON cannot hold
        Assert.NotNull(line["base_loglikelihood"]);
        Assert.Null(report["perplexity"]); // infinite
        Assert.NotNull(report["base_perplexity"]);

        // So do later versions' lines: the log-likelihood a string ("-inf", str() of it), the metric a bare -Infinity.
        string modern = dir.File("samples_lambada_2026-12-07T10-11-12.123456.jsonl");
        var logged = File.ReadAllLines(ModelFiles.Path("samples_lambada.jsonl"));
        var sample = JsonNode.Parse(logged[3])!;
        sample["filtered_resps"]![0]![0] = "-inf";
        sample["resps"]![0]![0]![0] = "-inf";
        sample["perplexity"] = 12345.5;
        File.WriteAllLines(modern, [.. logged[..3], sample.ToJsonString().Replace("12345.5", "-Infinity", StringComparison.Ordinal), .. logged[4..]]);
        report = CliRunner.Json("compare-samples", "--base", ModelFiles.Path("samples_lambada.jsonl"), "--test", modern, "--per-document", lines, "--json");
        Assert.Null(JsonNode.Parse(File.ReadAllLines(lines)[3])!["loglikelihood"]);

        File.WriteAllText(file, "[\n  {\"doc_id\": 0},\n  3\n]");
        CliRunner.Fails(3, [$"{file}:3", "is not a JSON object"], "compare-samples", "--base", file, "--test", file);
        File.WriteAllText(file, "[\n  {\"doc_id\": 0, \"doc\": \"a ] } \\\" [\"}\n");
        CliRunner.Fails(3, [file, "ends before its JSON array of samples does"], "compare-samples", "--base", file, "--test", file);
        File.WriteAllText(file, "[{\"doc_id\": 0}]\n[");
        CliRunner.Fails(3, [$"{file}:2", "holds more after the JSON array of samples"], "compare-samples", "--base", file, "--test", file);
        File.WriteAllText(file, "[{\"doc_id\": 0}\n {\"doc_id\": 1}]");
        CliRunner.Fails(3, [$"{file}:2", "has no comma after the sample before it"], "compare-samples", "--base", file, "--test", file);
        File.WriteAllText(file, "[{\"doc_id\": 0, \"x\": [1, }]");
        CliRunner.Fails(3, [$"{file}:1", "is not JSON"], "compare-samples", "--base", file, "--test", file);
    }
}
