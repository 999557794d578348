using System.Text.Json.Nodes;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>loglikelihood --hellaswag</c> and <c>--multiple-choice</c>: llama.cpp's scores (make_loglikelihood_reference.py:
/// its hellaswag_score and multiple_choice_score transcribed over window.onnx in float64, hellaswag.txt and
/// multiple_choice.bin in its file layouts), and its task draws against llama_select.cpp built with g++ (std::mt19937,
/// libstdc++'s uniform_int_distribution, its float scaling).
/// </summary>
public sealed class LlamaCppTasksTests
{
    private static JsonNode Reference => JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["llama_cpp"]!;

    private static string[] Of(string option, string file, string context, params string[] more) =>
        ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, option, file, "--context", context, "--device", "cpu", "--json", .. more];

    [Theory]
    [InlineData("hellaswag/10042/400")]
    [InlineData("hellaswag/3/3")]
    [InlineData("hellaswag/1000/999")]
    [InlineData("multiple-choice/10042/400")]
    [InlineData("multiple-choice/1000/999")]
    public void Tasks_are_drawn_as_llama_cpp_built_with_libstdcxx_draws_them(string draw)
    {
        string[] parts = draw.Split('/');
        int total = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), count = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        var tasks = Enumerable.Range(0, total).Select(i => new LlamaCppChoiceTasks.Task(i, "", ["", ""], [true, false])).ToArray();
        var format = parts[0] == "hellaswag" ? LlamaCppChoiceTasks.Format.HellaSwag : LlamaCppChoiceTasks.Format.MultipleChoice;
        int[] expected = [.. Reference["draws"]![draw]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(expected, LlamaCppChoiceTasks.Select(tasks, count, format).Select(t => t.Index).ToArray());
    }

    [Fact]
    public void HellaSwag_scores_400_drawn_tasks_unless_told_as_llama_cpp_does()
    {
        // llama-perplexity's hellaswag_tasks defaults to 400: a file of hellaswag_val_full.txt's 10042 tasks scores the 400 it draws.
        using var dir = new TempDir();
        string file = dir.File("hellaswag.txt"), lines = dir.File("tasks.jsonl");
        File.WriteAllText(file, HellaSwagOfWords(10042));
        var report = CliRunner.Json(Of("--hellaswag", file, "64", "--per-document", lines));
        Assert.Equal(400, (int)report["tasks"]!);
        Assert.Equal(10042, (int)report["tasks_in_file"]!);
        int[] expected = [.. Reference["draws"]!["hellaswag/10042/400"]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(expected, File.ReadAllLines(lines).Select(l => (int)JsonNode.Parse(l)!["task"]!).ToArray());
    }

    /// <summary>A HellaSwag file of <paramref name="tasks"/> short tasks of seven words (the one llama.cpp's hellaswag_default_run.txt scored, for 10042).</summary>
    internal static string HellaSwagOfWords(int tasks)
    {
        var words = new[] { "the", "model", "window", "reads", "once", "token", "bytes" };
        return string.Concat(Enumerable.Range(0, tasks).Select(t => $"{words[t % 7]} {words[(t / 7) % 7]} {words[(t / 49) % 7]}\n{t % 4}\n{string.Concat(Enumerable.Range(0, 4).Select(e => $"{words[(t + e) % 7]} {words[e]}\n"))}"));
    }

    [Theory]
    [InlineData("--hellaswag", "hellaswag.txt", "hellaswag", null, "all", 1)]
    [InlineData("--hellaswag", "hellaswag.txt", "hellaswag", 4, "first_4", 3)]
    [InlineData("--multiple-choice", "multiple_choice.bin", "multiple_choice", null, "all", 2)]
    [InlineData("--multiple-choice", "multiple_choice.bin", "multiple_choice", 5, "first_5", 1)]
    public void The_scores_are_llama_cpp_scores(string option, string file, string kind, int? count, string key, int batch)
    {
        var reference = Reference[kind]!;
        using var dir = new TempDir();
        string lines = dir.File("tasks.jsonl");
        string[] tasks = count is null ? [] : [$"{option}-tasks", count.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var report = CliRunner.Json(Of(option, ModelFiles.Path(file), "64", [.. tasks, "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--per-document", lines]));
        var expected = reference[key]!;
        int[] selected = [.. expected["selected"]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(selected.Length, (int)report["tasks"]!);
        Assert.Equal(reference["tasks"]!.AsArray().Count, (int)report["tasks_in_file"]!);
        string[] figures = kind == "hellaswag" ? ["acc_norm", "ci_low", "ci_high"] : ["acc", "acc_stderr", "random_chance", "random_chance_stderr"];
        foreach (string figure in figures)
        {
            string name = figure.StartsWith("ci_", StringComparison.Ordinal) ? $"acc_norm_{figure}" : figure;
            Assert.Equal(CliRunner.Number(expected[figure]), CliRunner.Number(report[name]), 12);
        }

        var rows = File.ReadAllLines(lines).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(selected, rows.Select(r => (int)r["task"]!).ToArray());
        foreach (var row in rows)
        {
            var task = reference["tasks"]![(int)row["task"]!]!;
            Assert.Equal((int)task["prediction"]!, (int)row["prediction"]!);
            var means = task["mean_logprobs"]!.AsArray();
            Assert.Equal(means.Count, row["mean_logprobs"]!.AsArray().Count);
            for (int a = 0; a < means.Count; a++)
            {
                double mean = CliRunner.Number(means[a]);
                Assert.Equal(mean, CliRunner.Number(row["mean_logprobs"]![a]), Math.Abs(mean) * 1e-5);
            }
        }
    }

    [Theory]
    [InlineData(null, "all", 1)]
    [InlineData(7, "first_7", 3)]
    public void The_winogrande_scores_are_llama_cpp_scores(int? count, string key, int batch)
    {
        var reference = Reference["winogrande"]!;
        using var dir = new TempDir();
        string lines = dir.File("tasks.jsonl");
        string[] tasks = count is null ? [] : ["--winogrande-tasks", count.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var (code, stdout, stderr) = CliRunner.Run(Of("--winogrande", ModelFiles.Path("winogrande.csv"), "64", [.. tasks, "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--per-document", lines]));
        Assert.Equal(0, code);
        var report = JsonNode.Parse(stdout)!;
        var expected = reference[key]!;
        int[] selected = [.. expected["selected"]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(selected.Length, (int)report["tasks"]!);
        Assert.Equal(reference["tasks"]!.AsArray().Count, (int)report["tasks_in_file"]!);

        // The file ends in a line break, which llama.cpp's -f drops: its last line is not read, and that is said.
        Assert.Equal((int)reference["lines"]!, (int)report["unread_last_line"]!);
        Assert.Contains($"winogrande.csv:{(int)reference["lines"]!}: not scored", stderr, StringComparison.Ordinal);
        Assert.Equal(CliRunner.Number(expected["acc"]), CliRunner.Number(report["acc"]), 12);
        Assert.Equal(CliRunner.Number(expected["acc_stderr"]), CliRunner.Number(report["acc_stderr"]), 12);

        var rows = File.ReadAllLines(lines).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(selected, rows.Select(r => (int)r["task"]!).ToArray());
        foreach (var row in rows)
        {
            var task = reference["tasks"]![(int)row["task"]!]!;
            Assert.Equal((int)task["prediction"]!, (int)row["prediction"]!);
            Assert.Equal((int)task["answer"]!, (int)row["answer"]!);
            Assert.Equal((bool)task["choice_skipped"]!, (bool)row["choice_skipped"]!);

            // Where the choice is scored, llama.cpp reads the second sentence's first token from the first one's last logits.
            Assert.Equal((bool)task["choice_skipped"]! ? 0 : 1, (int)row["misread_tokens"]!);
            for (int s = 0; s < 2; s++)
            {
                double mean = CliRunner.Number(task["mean_logprobs"]![s]);
                Assert.Equal(mean, CliRunner.Number(row["mean_logprobs"]![s]), Math.Abs(mean) * 1e-5);
            }
        }
    }

    [Theory]
    [InlineData("--hellaswag", "hellaswag.txt", "acc_norm")]
    [InlineData("--multiple-choice", "multiple_choice.bin", "acc")]
    [InlineData("--winogrande", "winogrande.csv", "acc")]
    public void A_base_model_is_scored_on_the_same_tasks_and_paired(string option, string file, string metric)
    {
        using var dir = new TempDir();
        string lines = dir.File("tasks.jsonl");
        string path = ModelFiles.Path(file);
        var paired = CliRunner.Json(Of(option, path, "64", "--base", ModelFiles.Path("bigram.onnx"), "--per-document", lines));
        var model = CliRunner.Json(Of(option, path, "64"));
        var baseAlone = CliRunner.Json(["loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, option, path, "--context", "64", "--device", "cpu"]);

        // Each model's figures are its own run's; the difference is paired over the same tasks.
        Assert.Equal(CliRunner.Number(model[metric]), CliRunner.Number(paired[metric]), 15);
        Assert.Equal(CliRunner.Number(baseAlone[metric]), CliRunner.Number(paired[$"base_{metric}"]), 15);
        var rows = File.ReadAllLines(lines).Select(l => JsonNode.Parse(l)!).ToArray();
        double[] differences = [.. rows.Select(r => (double)((int)r[metric]! - (int)r[$"base_{metric}"]!))];
        Assert.Equal(differences.Average(), CliRunner.Number(paired[$"{metric}_diff"]), 15);
        Assert.Equal(CliRunner.Number(model[metric]) - CliRunner.Number(baseAlone[metric]), CliRunner.Number(paired[$"{metric}_diff"]), 12);
        double mean = differences.Average();
        Assert.Equal(Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (differences.Length - 1) / differences.Length), CliRunner.Number(paired[$"{metric}_diff_stderr"]), 12);
        int rightToWrong = differences.Count(d => d < 0), wrongToRight = differences.Count(d => d > 0);
        Assert.Equal(rightToWrong, (int)paired["right_to_wrong"]!);
        Assert.Equal(wrongToRight, (int)paired["wrong_to_right"]!);
        Assert.Equal(GpuInfo.McNemar.ExactP(rightToWrong, wrongToRight), CliRunner.Number(paired["mcnemar_p"]), 15);
        Assert.Equal(rows.Average(r => (int)r["prediction"]! == (int)r["base_prediction"]! ? 1.0 : 0.0), CliRunner.Number(paired["same_prediction"]), 15);
        Assert.True(CliRunner.Number(paired["loglikelihood_max_abs_diff"]) > 0.1, "two different models' scores differ");

        // A model against itself: no difference.
        var itself = CliRunner.Json(Of(option, path, "64", "--base", ModelFiles.Path("window.onnx")));
        Assert.Equal(0, CliRunner.Number(itself[$"{metric}_diff"]));
        Assert.Equal(1, CliRunner.Number(itself["same_prediction"]));
        Assert.Equal(0, CliRunner.Number(itself["loglikelihood_max_abs_diff"]));
        Assert.Equal(1, CliRunner.Number(itself["mcnemar_p"]));
    }

    [Theory]
    [InlineData("0,a _ b.,x,y\n1,c _ d.,x,y,1\n\n", ":1", "has 3 commas outside quotes")]
    [InlineData("index,sentence,option1,option2,answer\n0,a _ b.,x,y,3\n\n", ":2", "has the answer 3, not 1 or 2")]
    [InlineData("0,a _ b.,x,y,1\n1,c d.,x,y,two\n\n", ":2", "has the answer 'two', not 1 or 2")]
    [InlineData("0,a b.,x,y,1\n\n", ":1", "has no _ in its sentence 'a b.'")]
    [InlineData("0,the _ reads.,window,model,1\n", "", "holds no tasks llama.cpp reads")]
    public void Bad_winogrande_files_are_named(string content, string line, string message)
    {
        using var dir = new TempDir();
        string file = dir.File("winogrande.csv");
        File.WriteAllText(file, content);
        CliRunner.Fails(3, [$"{file}{line}", message], Of("--winogrande", file, "64"));
    }

    [Fact]
    public void Windows_line_ends_are_read_as_llama_cpp_reads_them()
    {
        // "\r" stays in each line (the answer "2\r" reads as 2); the last line, now "\r" alone, is not a task left unread.
        using var dir = new TempDir();
        string file = dir.File("winogrande.csv");
        File.WriteAllText(file, string.Concat(File.ReadAllLines(ModelFiles.Path("winogrande.csv")).Select(l => l + "\r\n")) + "\r\n");
        var (code, stdout, stderr) = CliRunner.Run(Of("--winogrande", file, "64"));
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, stderr);
        var report = JsonNode.Parse(stdout)!;
        var reference = Reference["winogrande"]!;
        Assert.Equal(reference["tasks"]!.AsArray().Count + 1, (int)report["tasks"]!); // the line LF files leave unread is read
        Assert.Null(report["unread_last_line"]);
    }

    [Fact]
    public void Bad_files_and_options_are_named()
    {
        using var dir = new TempDir();
        string file = dir.File("hellaswag.txt");
        string hellaswag = ModelFiles.Path("hellaswag.txt");
        File.WriteAllText(file, "a context\n1\none\ntwo\nthree\n");
        CliRunner.Fails(3, [file, "has 5 lines, not a multiple of 6"], Of("--hellaswag", file, "64"));
        File.WriteAllText(file, "a context\nfour\none\ntwo\nthree\nfour\n");
        CliRunner.Fails(3, [$"{file}:2", "not the gold ending's index 0 to 3"], Of("--hellaswag", file, "64"));
        CliRunner.Fails(2, ["--text does not apply to it"], Of("--hellaswag", hellaswag, "64", "--text", ModelFiles.SampleText));
        CliRunner.Fails(2, ["--multiple-choice does not apply to it"], Of("--hellaswag", hellaswag, "64", "--multiple-choice", ModelFiles.Path("multiple_choice.bin")));
        CliRunner.Fails(2, ["--hellaswag-tasks 0"], Of("--hellaswag", hellaswag, "64", "--hellaswag-tasks", "0"));
        CliRunner.Fails(2, ["--hellaswag-tasks: give --hellaswag"], "loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--hellaswag-tasks", "3");
        CliRunner.Fails(3, ["more than --context 4 + 1 score whole"], Of("--hellaswag", hellaswag, "4"));
        string csv = dir.File("winogrande.csv");
        File.WriteAllText(csv, File.ReadAllText(ModelFiles.Path("winogrande.csv")) + "\n"); // every line read: no note
        CliRunner.Fails(3, [$"{csv}: task 0 (line 2), choice 1: 40 tokens", "more than --context 4 + 1 score whole"], Of("--winogrande", csv, "4"));
        CliRunner.Fails(2, ["--winogrande-tasks 0"], Of("--winogrande", ModelFiles.Path("winogrande.csv"), "64", "--winogrande-tasks", "0"));
        CliRunner.Fails(2, ["--winogrande does not apply to it"], Of("--hellaswag", hellaswag, "64", "--winogrande", ModelFiles.Path("winogrande.csv")));

        // The binary file cut anywhere, or its counts made too large: a one-line error naming it, never another exception.
        byte[] bytes = File.ReadAllBytes(ModelFiles.Path("multiple_choice.bin"));
        string bin = dir.File("mc.bin");
        foreach (int cut in new[] { 0, 3, 8, 60, bytes.Length / 2, bytes.Length - 1 })
        {
            File.WriteAllBytes(bin, bytes[..cut]);
            CliRunner.Fails(3, [bin], Of("--multiple-choice", bin, "64"));
        }

        byte[] many = [.. bytes];
        many[0] = 0xFF;
        many[3] = 0x7F;
        File.WriteAllBytes(bin, many);
        CliRunner.Fails(3, [bin, "more than its"], Of("--multiple-choice", bin, "64"));
    }
}
