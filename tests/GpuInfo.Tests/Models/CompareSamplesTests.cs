using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>gpuinfo compare-samples</c> over two harness runs of one task (make_loglikelihood_reference.py: two models whose scores
/// are drawn, the per-sample metrics the harness's own): every figure recomputed here from the logged metrics.
/// </summary>
public sealed class CompareSamplesTests
{
    private static JsonNode[] Logged(string run, string task) =>
        [.. File.ReadAllLines(ModelFiles.Path($"samples_paired_{run}_{task}.jsonl")).Select(l => JsonNode.Parse(l)!)];

    private static string[] Run(string task, params string[] more) =>
        ["compare-samples", "--base", ModelFiles.Path($"samples_paired_base_{task}.jsonl"), "--test", ModelFiles.Path($"samples_paired_test_{task}.jsonl"), "--json", .. more];

    /// <summary>A paired run's samples copied as the harness names a task's samples file, in a folder of the run's own.</summary>
    private static string LoggedAs(TempDir dir, string run, string task, string asTask)
    {
        string path = dir.File(Path.Combine(run, $"samples_{asTask}_2026-12-07T10-11-12.123456.jsonl"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(ModelFiles.Path($"samples_paired_{run}_{task}.jsonl"), path);
        return path;
    }

    private static double Stderr(double[] values) => Math.Sqrt(values.Sum(v => Math.Pow(v - values.Average(), 2)) / (values.Length - 1) / values.Length);

    private static int ArgMax(JsonNode sample)
    {
        double[] lls = [.. sample["filtered_resps"]!.AsArray().Select(r => double.Parse((string)r![0]!, System.Globalization.CultureInfo.InvariantCulture))];
        return Array.IndexOf(lls, lls.Max()); // the first of equals, as np.argmax
    }

    [Theory]
    [InlineData("choices")]
    [InlineData("lambada")]
    public void Two_runs_compare_document_by_document(string task)
    {
        var (b, t) = (Logged("base", task), Logged("test", task));
        using var dir = new TempDir();
        string lines = dir.File("lines.jsonl");
        var report = CliRunner.Json(Run(task, "--per-document", lines));
        double[] accBase = [.. b.Select(d => CliRunner.Number(d["acc"]))], accTest = [.. t.Select(d => CliRunner.Number(d["acc"]))];
        Assert.Equal(accTest.Average(), CliRunner.Number(report["acc"]), 12);
        Assert.Equal(accBase.Average(), CliRunner.Number(report["base_acc"]), 12);
        double[] differences = [.. accTest.Zip(accBase, (x, y) => x - y)];
        Assert.Equal(differences.Average(), CliRunner.Number(report["acc_diff"]), 12);
        Assert.Equal(Stderr(differences), CliRunner.Number(report["acc_diff_stderr"]), 12);
        int rightToWrong = differences.Count(d => d < 0), wrongToRight = differences.Count(d => d > 0);
        Assert.True(rightToWrong > 3 && wrongToRight > 3, "the two drawn models disagree on several documents");
        Assert.Equal(rightToWrong, (int)report["right_to_wrong"]!);
        Assert.Equal(wrongToRight, (int)report["wrong_to_right"]!);
        Assert.Equal(McNemar.ExactP(rightToWrong, wrongToRight), CliRunner.Number(report["mcnemar_p"]));
        if (task == "choices")
        {
            Assert.Equal(t.Average(d => CliRunner.Number(d["acc_norm"])), CliRunner.Number(report["acc_norm"]), 12);
            Assert.Equal(b.Average(d => CliRunner.Number(d["acc_norm"])), CliRunner.Number(report["base_acc_norm"]), 12);
            Assert.Equal(b.Zip(t).Average(p => ArgMax(p.First) == ArgMax(p.Second) ? 1.0 : 0.0), CliRunner.Number(report["same_prediction"]), 12);
        }
        else
        {
            // The harness's per-sample "perplexity" is the log-likelihood; its aggregation, exp of minus the mean.
            Assert.Equal(Math.Exp(-t.Average(d => CliRunner.Number(d["perplexity"]))), CliRunner.Number(report["perplexity"]), 1e-9);
            Assert.Equal(Math.Exp(-b.Average(d => CliRunner.Number(d["perplexity"]))), CliRunner.Number(report["base_perplexity"]), 1e-9);
            Assert.True(CliRunner.Number(report["base_perplexity_stderr"]) > 0);
        }

        Assert.Equal(b.Length, (int)report[task == "choices" ? "documents" : "requests"]!);
        Assert.Equal(b.Length, File.ReadAllLines(lines).Length);
        var self = CliRunner.Json("compare-samples", "--base", ModelFiles.Path($"samples_paired_base_{task}.jsonl"), "--test", ModelFiles.Path($"samples_paired_base_{task}.jsonl"), "--json");
        Assert.Equal(0.0, CliRunner.Number(self["acc_diff"]));
        Assert.Equal(1.0, CliRunner.Number(self["mcnemar_p"]));
        Assert.Equal(0.0, CliRunner.Number(self["loglikelihood_max_abs_diff"]));
    }

    [Fact]
    public void Named_metrics_are_the_harness_aggregations_of_them()
    {
        // A GLUE-shaped task whose samples name acc_bytes, f1 and mcc: the harness's own f1_score and matthews_corrcoef of
        // each run's logged (gold, prediction) pairs and its bootstrap_stderr over 2000 resamples.
        var reference = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["glue"]!;
        var report = CliRunner.Json(Run("glue", "--bootstrap-iters", "2000"));
        foreach (var (run, prefix) in new[] { ("test", ""), ("base", "base_") })
        {
            foreach (string metric in new[] { "acc_bytes", "f1", "mcc" })
            {
                Assert.Equal(CliRunner.Number(reference[run]![metric]), CliRunner.Number(report[$"{prefix}{metric}"]), 12);
            }
        }

        foreach (string stderr in new[] { "f1_stderr", "mcc_stderr" })
        {
            double expected = CliRunner.Number(reference["test"]![stderr]);
            Assert.Equal(expected, CliRunner.Number(report[stderr]), expected * 1e-9);
        }

        Assert.Null(report["metrics_not_reported"]);

        // loglikelihood --samples: the harness's figures from its own log-likelihoods beside window.onnx's.
        var scored = CliRunner.Json("loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", ModelFiles.Path("samples_paired_test_glue.jsonl"),
            "--prefix-token", "7", "--context", "64", "--device", "cpu", "--bootstrap-iters", "0", "--json");
        Assert.Equal(CliRunner.Number(reference["test"]!["f1"]), CliRunner.Number(scored["harness_f1"]), 12);
        Assert.Equal(CliRunner.Number(reference["test"]!["mcc"]), CliRunner.Number(scored["harness_mcc"]), 12);
        Assert.Equal(CliRunner.Number(reference["test"]!["acc_bytes"]), CliRunner.Number(scored["harness_acc_bytes"]), 12);
        Assert.NotNull(scored["f1"]);
        Assert.Null(scored["f1_stderr"]);

        // A metric gpuinfo does not report is named; an f1 of three choices is not the harness's binary aggregation.
        using var dir = new TempDir();
        string named = dir.File("named.jsonl");
        File.WriteAllLines(named, File.ReadAllLines(ModelFiles.Path("samples_paired_base_choices.jsonl")).Select(l =>
        {
            var line = JsonNode.Parse(l)!;
            line["metrics"] = new JsonArray("acc", "acc_norm", "brier_score", "f1");
            return line.ToJsonString();
        }));
        var other = CliRunner.Json("compare-samples", "--base", named, "--test", named, "--json");
        Assert.Equal("brier_score", (string)other["metrics_not_reported"]!.AsArray().Single()!);
        Assert.Null(other["f1"]);
        Assert.Contains("4 choices", (string)other["f1_not_computed"]!);
    }

    [Fact]
    public void Two_rolling_runs_compare_their_rates()
    {
        var (b, t) = (Logged("base", "rolling"), Logged("test", "rolling"));
        var report = CliRunner.Json(Run("rolling"));
        double Ll(JsonNode d) => CliRunner.Number(d["word_perplexity"]![0]);
        long words = b.Sum(d => (long)CliRunner.Number(d["word_perplexity"]![1])), bytes = b.Sum(d => (long)CliRunner.Number(d["byte_perplexity"]![1]));
        Assert.Equal(words, (long)report["words"]!);
        Assert.Equal(Math.Exp(-t.Sum(Ll) / words), CliRunner.Number(report["word_perplexity"]), 1e-9);
        Assert.Equal(Math.Exp(-b.Sum(Ll) / words), CliRunner.Number(report["base_word_perplexity"]), 1e-9);
        Assert.Equal(-b.Sum(Ll) / bytes / Math.Log(2), CliRunner.Number(report["base_bits_per_byte"]), 1e-12);
        double[] differences = [.. t.Zip(b, (x, y) => Ll(x) - Ll(y))];
        Assert.Equal(differences.Average(), CliRunner.Number(report["loglikelihood_diff"]), 1e-9);
        Assert.Equal(Stderr(differences), CliRunner.Number(report["loglikelihood_diff_stderr"]), 1e-9);
        Assert.Equal(differences.Max(Math.Abs), CliRunner.Number(report["loglikelihood_max_abs_diff"]), 1e-9);
    }

    [Fact]
    public void Generation_runs_compare_by_their_logged_metrics_per_filter()
    {
        // GSM8K's task (its templates, exact_match settings and both filters) over drawn questions, two drawn models' answers.
        var (b, t) = (Logged("base", "gsm8k"), Logged("test", "gsm8k"));
        using var dir = new TempDir();
        string lines = dir.File("lines.jsonl");
        var report = CliRunner.Json(Run("gsm8k", "--per-document", lines));
        Assert.Equal(60, (int)report["documents"]!);
        Assert.Equal(120, (int)report["samples"]!);
        foreach (string filter in new[] { "strict-match", "flexible-extract" })
        {
            var entry = report[$"exact_match,{filter}"]!;
            double[] baseValues = [.. b.Where(d => (string)d["filter"]! == filter).Select(d => CliRunner.Number(d["exact_match"]))];
            double[] testValues = [.. t.Where(d => (string)d["filter"]! == filter).Select(d => CliRunner.Number(d["exact_match"]))];
            double[] differences = [.. testValues.Zip(baseValues, (x, y) => x - y)];
            Assert.Equal(testValues.Average(), CliRunner.Number(entry["test"]), 12);
            Assert.Equal(baseValues.Average(), CliRunner.Number(entry["base"]), 12);
            Assert.Equal(Stderr(baseValues), CliRunner.Number(entry["base_stderr"]), 12);
            Assert.Equal(differences.Average(), CliRunner.Number(entry["diff"]), 12);
            Assert.Equal(Stderr(differences), CliRunner.Number(entry["diff_stderr"]), 12);
            int rightToWrong = differences.Count(d => d < 0), wrongToRight = differences.Count(d => d > 0);
            Assert.True(rightToWrong > 3 && wrongToRight > 3, "the two drawn models disagree on several questions");
            Assert.Equal(rightToWrong, (int)entry["right_to_wrong"]!);
            Assert.Equal(wrongToRight, (int)entry["wrong_to_right"]!);
            Assert.Equal(McNemar.ExactP(rightToWrong, wrongToRight), CliRunner.Number(entry["mcnemar_p"]));
        }

        Assert.NotEqual(CliRunner.Number(report["exact_match,strict-match"]!["test"]), CliRunner.Number(report["exact_match,flexible-extract"]!["test"]));
        Assert.Equal(120, File.ReadAllLines(lines).Length);

        // Any task by its logged metrics: a multiple-choice task's acc and acc_norm as the harness logged them, and
        // truthfulqa_mc2's probability masses (not 0 or 1: no flips).
        var choices = CliRunner.Json(Run("choices", "--logged-metrics"));
        var recomputed = CliRunner.Json(Run("choices"));
        Assert.Equal(CliRunner.Number(recomputed["acc"]), CliRunner.Number(choices["acc,none"]!["test"]), 12);
        Assert.Equal(CliRunner.Number(recomputed["base_acc_norm"]), CliRunner.Number(choices["acc_norm,none"]!["base"]), 12);
        Assert.Equal(CliRunner.Number(recomputed["mcnemar_p"]), CliRunner.Number(choices["acc,none"]!["mcnemar_p"]));
        string mc2 = ModelFiles.Path("samples_truthfulqa_mc2.jsonl");
        var masses = CliRunner.Json("compare-samples", "--base", mc2, "--test", mc2, "--logged-metrics", "--json");
        Assert.Equal(File.ReadAllLines(mc2).Average(l => CliRunner.Number(JsonNode.Parse(l)!["acc"])), CliRunner.Number(masses["acc,none"]!["test"]), 12);
        Assert.Null(masses["acc,none"]!["mcnemar_p"]);
        CliRunner.Fails(2, ["--labels-field: the logged metrics are compared as logged"], "compare-samples", "--base", mc2, "--test", mc2, "--logged-metrics", "--labels-field", "doc.mc2_targets.labels");
    }

    [Fact]
    public void Documents_pair_by_file_doc_id_and_filter_not_by_line()
    {
        // A run on several ranks logs rank 0's documents, then rank 1's, ...: the same report as in order.
        using var dir = new TempDir();
        string shuffled = dir.File("shuffled.jsonl");
        var lines = File.ReadAllLines(ModelFiles.Path("samples_paired_test_gsm8k.jsonl"));
        File.WriteAllLines(shuffled, [.. Enumerable.Range(0, 4).SelectMany(rank => lines.Where((_, i) => i % 4 == rank))]);
        foreach (string task in new[] { "gsm8k", "choices" })
        {
            string test = task == "gsm8k" ? shuffled : dir.File("choices.jsonl");
            if (task == "choices")
            {
                var choices = File.ReadAllLines(ModelFiles.Path("samples_paired_test_choices.jsonl"));
                File.WriteAllLines(test, [.. choices.Reverse()]);
            }

            var inOrder = CliRunner.Json(Run(task));
            var reordered = CliRunner.Json("compare-samples", "--base", ModelFiles.Path($"samples_paired_base_{task}.jsonl"), "--test", test, "--json");
            foreach (var (key, value) in inOrder.Where(kv => kv.Key != "test"))
            {
                Assert.True(JsonNode.DeepEquals(value, reordered[key]), $"{task} {key}: {value?.ToJsonString()} in order, {reordered[key]?.ToJsonString()} reordered");
            }
        }

        // Several files (MMLU logs one per subject, each from doc_id 0): the i-th base file pairs with the i-th test file.
        string b = ModelFiles.Path("samples_paired_base_choices.jsonl"), t = ModelFiles.Path("samples_paired_test_choices.jsonl");
        File.Copy(b, dir.File("b2.jsonl"));
        File.Copy(t, dir.File("t2.jsonl"));
        var twice = CliRunner.Json("compare-samples", "--base", b, dir.File("b2.jsonl"), "--test", t, dir.File("t2.jsonl"), "--json");
        var once = CliRunner.Json(Run("choices"));
        Assert.Equal(120, (int)twice["documents"]!);
        Assert.Equal(CliRunner.Number(once["acc_diff"]), CliRunner.Number(twice["acc_diff"]), 12);
        Assert.Equal(2 * (int)once["right_to_wrong"]!, (int)twice["right_to_wrong"]!);

        // Each file its task's own figures (MMLU's subjects), named as the harness names the file.
        var tasks = twice["tasks"]!.AsArray();
        Assert.Equal(["samples_paired_base_choices", "b2"], tasks.Select(e => (string)e!["task"]!).ToArray());
        foreach (var entry in tasks)
        {
            foreach (string key in new[] { "documents", "acc", "base_acc", "acc_diff", "acc_diff_stderr", "acc_norm_diff", "right_to_wrong", "wrong_to_right", "mcnemar_p", "same_prediction" })
            {
                Assert.True(JsonNode.DeepEquals(once[key], entry![key]), $"{key}: {once[key]?.ToJsonString()} alone, {entry![key]?.ToJsonString()} as a task of two");
            }
        }

        string g = ModelFiles.Path("samples_paired_base_gsm8k.jsonl"), gt = ModelFiles.Path("samples_paired_test_gsm8k.jsonl");
        File.Copy(g, dir.File("samples_gsm8k_2026-12-07T10-11-12.123456.jsonl"));
        File.Copy(gt, dir.File("gt2.jsonl"));
        var generation = CliRunner.Json("compare-samples", "--base", g, dir.File("samples_gsm8k_2026-12-07T10-11-12.123456.jsonl"), "--test", gt, dir.File("gt2.jsonl"), "--json");
        var alone = CliRunner.Json(Run("gsm8k"));
        var second = generation["tasks"]!.AsArray()[1]!;
        Assert.Equal("gsm8k", (string)second["task"]!);
        Assert.True(JsonNode.DeepEquals(alone["exact_match,strict-match"], second["exact_match,strict-match"]));
        Assert.Equal(120, (int)generation["documents"]!);
    }

    [Theory]
    [InlineData("samples_mmlu_anatomy_2026-12-07T10-11-12.123456.jsonl", "mmlu_anatomy")]
    [InlineData("samples_kobest_boolq_2026-12-07T10-11-12.123456.jsonl.gz", "kobest_boolq")]
    [InlineData("samples_kobest_boolq_2026-12-07T10-11-12.123456.jsonl.zst", "kobest_boolq")]
    [InlineData("pretrained__gpt2_lambada_openai.jsonl", "pretrained__gpt2_lambada_openai")]
    [InlineData("my_run.json.gz", "my_run")]
    public void A_samples_file_names_its_task_compressed_or_not(string file, string task) =>
        Assert.Equal(task, GpuInfo.Cli.HarnessSamples.TaskOf(Path.Combine("logs", file)));

    [Fact]
    public void Compressed_samples_are_the_same_run()
    {
        using var dir = new TempDir();
        string plain = LoggedAs(dir, "base", "glue", "kobest_boolq"), compressed = plain + ".gz";
        using (var input = File.OpenRead(plain))
        using (var output = new System.IO.Compression.GZipStream(File.Create(compressed), System.IO.Compression.CompressionLevel.Optimal))
        {
            input.CopyTo(output);
        }

        string test = LoggedAs(dir, "test", "glue", "kobest_boolq");
        var report = CliRunner.Json("compare-samples", "--base", plain, "--test", test, "--json");
        var gz = CliRunner.Json("compare-samples", "--base", compressed, "--test", test, "--json");
        Assert.Equal("macro", (string)gz["f1_aggregation"]!);
        foreach (var (key, value) in report.Where(kv => kv.Key != "base"))
        {
            Assert.True(JsonNode.DeepEquals(value, gz[key]), key);
        }
    }

    [Fact]
    public void A_metric_the_task_aggregates_otherwise_is_not_computed()
    {
        // tinyBenchmarks estimate acc_norm by IRT from the per-document values: not their mean.
        using var dir = new TempDir();
        var report = CliRunner.Json("compare-samples", "--base", LoggedAs(dir, "base", "choices", "tinyHellaswag"), "--test", LoggedAs(dir, "test", "choices", "tinyHellaswag"), "--json");
        var plain = CliRunner.Json(Run("choices"));
        foreach (string key in new[] { "acc_norm", "acc_norm_stderr", "base_acc_norm" })
        {
            Assert.NotNull(plain[key]);
            Assert.Null(report[key]);
        }

        Assert.Contains("aggregates acc_norm with agg_functions.agg_gpirt_hellaswag", (string)report["acc_norm_not_computed"]!);

        // Documents of one's own are no harness task, whatever their file is called.
        var reference = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
        string own = dir.File("tinyHellaswag.jsonl");
        File.WriteAllLines(own, reference["choices"]!.AsArray().Select(d => d!.ToJsonString()));
        var documents = CliRunner.Json("loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", own, "--text-field", "context",
            "--choices-field", "choices", "--prefix-token", "7", "--context", "64", "--device", "cpu", "--json");
        Assert.NotNull(documents["acc_norm"]);
        Assert.Null(documents["acc_norm_not_computed"]);
        foreach (string key in new[] { "acc", "acc_stderr", "base_acc", "acc_norm_diff", "mcnemar_p" })
        {
            Assert.True(JsonNode.DeepEquals(plain[key], report[key]), key);
        }
    }

    [Theory]
    [InlineData("mrpc", "binary", "binary")]
    [InlineData("kobest_boolq", "macro", "macro")]
    [InlineData("AraDiCE_piqa_egy", "micro", "micro")]
    [InlineData("afrimmlu_direct_amh_prompt_1", "weighted", "weighted")]
    [InlineData("cb", "labels 0 1 2", "mean over labels 0, 1, 2")]
    [InlineData("evalita-mp_sa_prompt-1", null, "metrics._aggreg_sa")]
    [InlineData("my_own_task", "binary", "binary (the harness's default; not one of its tasks)")]
    public void F1_is_aggregated_as_the_task_aggregates_it(string task, string? kind, string name)
    {
        // The GLUE-shaped runs logged as lm-evaluation-harness tasks whose yaml names another f1 aggregation: each
        // task's own function of the logged pairs (make_f1_reference.py), and no stderr but the binary f1's.
        using var dir = new TempDir();
        var report = CliRunner.Json("compare-samples", "--base", LoggedAs(dir, "base", "glue", task), "--test", LoggedAs(dir, "test", "glue", task), "--bootstrap-iters", "500", "--json");
        Assert.Equal(name, (string)report["f1_aggregation"]!);
        if (kind is null)
        {
            Assert.Null(report["f1"]);
            Assert.Null(report["base_f1"]);
            Assert.Contains($"aggregates f1 with {name}, which gpuinfo does not compute", (string)report["f1_not_computed"]!);
            return;
        }

        var glue = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("f1_reference.json")))!["glue"]!;
        var binary = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["glue"]!;
        foreach (var (run, prefix) in new[] { ("test", ""), ("base", "base_") })
        {
            double expected = CliRunner.Number(kind == "binary" ? binary[run]!["f1"] : glue[run]![kind]);
            Assert.Equal(expected, CliRunner.Number(report[$"{prefix}f1"]), 12);
        }

        Assert.Equal(kind == "binary", report["f1_stderr"] is not null);
        Assert.NotNull(report["mcc_stderr"]);
        Assert.Null(report["f1_not_computed"]);
    }

    [Fact]
    public void Several_files_are_a_group_with_the_harness_group_figures()
    {
        // MMLU's subjects: the harness's group acc is the size-weighted mean of its tasks', its stderr pools theirs
        // (pooled_sample_stderr), computed by its own Group.aggregate in make_loglikelihood_reference.py.
        var reference = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["group"]!;
        string[] files = [.. reference["files"]!.AsArray().Select(f => ModelFiles.Path((string)f!))];
        string[] run = ["compare-samples", "--test", .. files, "--base", .. files.Reverse(), "--bootstrap-iters", "0", "--json"];
        var report = CliRunner.Json(run);
        var logged = CliRunner.Json([.. run, "--logged-metrics"]);
        var group = reference["group"]!;
        foreach (string metric in new[] { "acc", "acc_norm" })
        {
            double value = CliRunner.Number(group[$"{metric},none"]), stderr = CliRunner.Number(group[$"{metric}_stderr,none"]);
            Assert.Equal(value, CliRunner.Number(report[metric]), 1e-14);
            Assert.Equal(stderr, CliRunner.Number(report[$"{metric}_stderr"]), 1e-14);
            Assert.Equal(value, CliRunner.Number(logged[$"{metric},none"]!["test"]), 1e-14);
            Assert.Equal(stderr, CliRunner.Number(logged[$"{metric},none"]!["test_stderr"]), 1e-14);
            for (int f = 0; f < files.Length; f++)
            {
                Assert.Equal(CliRunner.Number(reference["tasks"]![$"task_{f}"]![$"{metric}_stderr,none"]), CliRunner.Number(report["tasks"]![f]![$"{metric}_stderr"]), 1e-14);
            }
        }

        // Not the documents' pooled stderr: the subjects' means differ.
        double[] acc = [.. files.SelectMany(f => File.ReadAllLines(f)).Select(l => CliRunner.Number(JsonNode.Parse(l)!["acc"]))];
        Assert.NotEqual(Stderr(acc), CliRunner.Number(report["acc_stderr"]), 6);

        // The f1 and mcc of several tasks' documents are each task's (the harness has no pooled one).
        string[] glues = [ModelFiles.Path("samples_paired_test_glue.jsonl"), ModelFiles.Path("samples_paired_base_glue.jsonl")];
        var both = CliRunner.Json(["compare-samples", "--test", .. glues, "--base", .. glues.Reverse(), "--bootstrap-iters", "0", "--json"]);
        Assert.Null(both["f1"]);
        Assert.Null(both["mcc"]);
        Assert.Contains("over several tasks", (string)both["f1_not_computed"]!);
        var glueReference = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["glue"]!;
        Assert.Equal(CliRunner.Number(glueReference["test"]!["f1"]), CliRunner.Number(both["tasks"]![0]!["f1"]), 12);
        Assert.Equal(CliRunner.Number(glueReference["base"]!["mcc"]), CliRunner.Number(both["tasks"]![1]!["mcc"]), 12);

        // Without --json, each task is a row of its figures and how they moved.
        var (code, table, _) = CliRunner.Run([.. run.Where(a => a != "--json")]);
        Assert.Equal(0, code);
        string[] lines = table.Split('\n');
        string header = lines.Single(l => l.Contains("right_to_wrong", StringComparison.Ordinal) && l.Contains("mcnemar_p", StringComparison.Ordinal));
        Assert.Contains("acc_diff", header);
        for (int f = 0; f < files.Length; f++)
        {
            string row = lines.Single(l => l.Contains($" {Path.GetFileNameWithoutExtension(files[f])} ", StringComparison.Ordinal));
            Assert.Contains(Tables.F(CliRunner.Number(report["tasks"]![f]!["acc"])), row);
            Assert.Contains(Tables.F(CliRunner.Number(report["tasks"]![f]!["mcnemar_p"])), row);
        }

        // A group's figures are of metrics every task computes: files naming others are refused, naming both.
        string glue = ModelFiles.Path("samples_paired_test_glue.jsonl");
        CliRunner.Fails(3, [$"{glue}:1", "names the metrics [acc, f1, mcc, acc_bytes], where", "samples_paired_test_choices.jsonl:1 names [acc, acc_norm]"], "compare-samples", "--test", files[0], glue, "--base", files[1], ModelFiles.Path("samples_paired_base_glue.jsonl"));
    }

    [Theory]
    [InlineData("include_base_44_hebrew")]
    [InlineData("bhs_hindi")]
    public void Files_that_make_up_a_harness_group_report_its_figures(string name)
    {
        // make_loglikelihood_reference.py: the harness's own Group.aggregate, with the group's tasks and
        // aggregate_metric_list from its yaml (bhs_hindi weighs its tasks equally), of each run's logged metrics.
        var group = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["named_groups"]![name]!;
        string[] leaves = [.. group["leaves"]!.AsArray().Select(l => (string)l!)];
        using var dir = new TempDir();
        string[] Copies(string run) => [.. leaves.Select((leaf, k) =>
        {
            string path = dir.File(Path.Combine(run, $"samples_{leaf}_2026-12-07T10-11-12.123456.jsonl"));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(ModelFiles.Path((string)group[$"{run}_files"]![k]!), path);
            return path;
        })];
        string[] test = Copies("test"), @base = Copies("base");
        var report = CliRunner.Json(["compare-samples", "--test", .. test, "--base", .. @base, "--bootstrap-iters", "0", "--json"]);
        var row = report["groups"]!.AsArray().Single(g => (string)g!["group"]! == name)!;
        Assert.Equal(leaves.Length, (int)row["tasks"]!);
        Assert.Equal((int)group["test"]!["sample_len"]!, (int)row["documents"]!);
        Assert.Equal(CliRunner.Number(group["test"]!["acc,none"]), CliRunner.Number(row["acc"]), 1e-14);
        Assert.Equal(CliRunner.Number(group["test"]!["acc_stderr,none"]), CliRunner.Number(row["acc_stderr"]), 1e-14);
        Assert.Equal(CliRunner.Number(group["base"]!["acc,none"]), CliRunner.Number(row["base_acc"]), 1e-14);
        Assert.Equal(report["tasks"]!.AsArray().Sum(t => (int)t!["right_to_wrong"]!), (int)row["right_to_wrong"]!);
        Assert.Null(row["acc_norm"]); // neither group aggregates it

        // Without one of its tasks, the files make up no group.
        var fewer = CliRunner.Json(["compare-samples", "--test", .. test[1..], "--base", .. @base[1..], "--bootstrap-iters", "0", "--json"]);
        Assert.DoesNotContain(fewer["groups"]?.AsArray() ?? [], g => (string)g!["group"]! == name);
    }

    [Fact]
    public void Runs_of_other_documents_or_tasks_are_refused_naming_the_line()
    {
        using var dir = new TempDir();
        string shorter = dir.File("shorter.jsonl"), edited = dir.File("edited.jsonl");
        var testLines = File.ReadAllLines(ModelFiles.Path("samples_paired_test_choices.jsonl"));
        File.WriteAllLines(shorter, testLines[..59]);
        string basePath = ModelFiles.Path("samples_paired_base_choices.jsonl");
        CliRunner.Fails(3, [$"{basePath}:60", "is doc_id 59 of the base run, which the test run lacks"], "compare-samples", "--base", basePath, "--test", shorter);
        string testPath = ModelFiles.Path("samples_paired_test_choices.jsonl");
        CliRunner.Fails(3, [$"{testPath}:60", "is doc_id 59 of the test run, which the base run lacks"], "compare-samples", "--base", shorter, "--test", testPath);
        File.WriteAllLines(edited, [.. testLines, testLines[7]]);
        CliRunner.Fails(3, [$"{edited}:61", "is doc_id 7 again (first at", "a document logged twice"], "compare-samples", "--base", basePath, "--test", edited);
        var refiltered = JsonNode.Parse(testLines[7])!;
        refiltered["filter"] = "strict";
        File.WriteAllLines(edited, [.. testLines, refiltered.ToJsonString()]);
        CliRunner.Fails(3, [$"{edited}:61", "under filter none), under filter strict: the harness logs a document once per filter"], "compare-samples", "--base", basePath, "--test", edited);
        var line = JsonNode.Parse(testLines[4])!;
        string choice = (string)line["arguments"]!["gen_args_1"]!["arg_1"]!;
        line["arguments"]!["gen_args_1"]!["arg_1"] = choice[..^1] + (choice[^1] == 'x' ? 'y' : 'x'); // another choice of as many characters
        File.WriteAllLines(edited, [.. testLines[..4], line.ToJsonString(), .. testLines[5..]]);
        CliRunner.Fails(3, [$"{edited}:5", "request 1 is not the base's"], "compare-samples", "--base", basePath, "--test", edited);
        CliRunner.Fails(3, ["samples_paired_test_lambada.jsonl:1", "request 0 is not the base's"], "compare-samples", "--base", basePath, "--test", ModelFiles.Path("samples_paired_test_lambada.jsonl"));
        CliRunner.Fails(3, ["samples_paired_test_choices.jsonl:1", "is not one text (a loglikelihood_rolling task's"], "compare-samples", "--base", ModelFiles.Path("samples_paired_base_rolling.jsonl"), "--test", ModelFiles.Path("samples_paired_test_choices.jsonl"));
        CliRunner.Fails(2, ["--labels-field: a loglikelihood_rolling task's documents have no choices"], [.. Run("rolling"), "--labels-field", "x"]);
        var gsm8k = File.ReadAllLines(ModelFiles.Path("samples_paired_test_gsm8k.jsonl"));
        var question = JsonNode.Parse(gsm8k[70])!;
        question["arguments"]!["gen_args_0"]!["arg_0"] = "Question: another?\nAnswer:";
        File.WriteAllLines(edited, [.. gsm8k[..70], question.ToJsonString(), .. gsm8k[71..]]);
        CliRunner.Fails(3, [$"{edited}:71", "its \"arguments\" differs from the base's"], "compare-samples", "--base", ModelFiles.Path("samples_paired_base_gsm8k.jsonl"), "--test", edited);
        question = JsonNode.Parse(gsm8k[3])!;
        question.AsObject().Remove("exact_match");
        File.WriteAllLines(edited, [.. gsm8k[..3], question.ToJsonString(), .. gsm8k[4..]]);
        CliRunner.Fails(3, [$"{edited}:4", "names the metric \"exact_match\" but holds no value of it"], "compare-samples", "--base", ModelFiles.Path("samples_paired_base_gsm8k.jsonl"), "--test", edited);
        File.WriteAllText(shorter, "");
        CliRunner.Fails(3, [shorter, "holds no samples"], "compare-samples", "--base", shorter, "--test", shorter);
    }
}
