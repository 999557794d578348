using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Models;

namespace GpuInfo.Tests.Formats;

/// <summary>
/// llama.cpp's own <c>llama-perplexity --hellaswag</c>, <c>--winogrande</c> and <c>--multiple-choice</c> runs of the
/// tiny GGUF model (LlamaCpp/*_run.txt, see its README) beside <c>gpuinfo loglikelihood</c>'s of its ONNX twin
/// (LlamaCpp/twin/, make_onnx_twin.py: the same weights and computation; its logits within a mean KL of 5e-7 of
/// llama.cpp's, whose KV cache is float16): the same tasks drawn, the same tokens scored, the same figures. Its twin with a
/// KV cache (LlamaCpp/twin_past/, make_onnx_twin.py --past) runs a task's common first tokens once, as llama.cpp does: the
/// same figures again.
/// </summary>
public sealed partial class LlamaCppTaskRunTests
{
    private static string FileOf(string name) => Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", name);

    private static JsonObject Ours(string option, string file, int? tasks, string? lines = null, string twin = "twin")
    {
        var report = CliRunner.Json(["loglikelihood", "--model", FileOf(twin), option, ModelFiles.Path(file), "--device", "cpu",
            .. tasks is null ? Array.Empty<string>() : [$"{option}-tasks", tasks.Value.ToString(CultureInfo.InvariantCulture)],
            .. lines is null ? Array.Empty<string>() : ["--per-document", lines]]);
        Assert.Equal(twin == "twin_past", CliRunner.Number(report["shared_tokens"]) > 0);
        return report;
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [Fact]
    public void The_twin_is_the_gguf_model_as_llama_cpp_runs_it()
    {
        var report = CliRunner.Json("compare-models", "--base", FileOf("base.kld"), "--test", FileOf("twin"), "--prefix-token", "300", "--device", "cpu");
        Assert.True(CliRunner.Number(report["mean_kld"]) < 1e-5, $"mean KL {report["mean_kld"]}");
        Assert.Equal(1, CliRunner.Number(report["same_top1"]));
    }

    [Fact]
    public void Perplexity_of_chunks_is_llama_cpp_s_final_estimate()
    {
        // The text tokenized by the twin's tokenizer.json (its BOS first) as llama.cpp tokenizes it with the GGUF's vocabulary.
        var final = EstimateLine().Match(File.ReadAllText(FileOf("perplexity_run.txt")));
        Assert.True(final.Success, "llama.cpp's final estimate");
        var report = CliRunner.Json("perplexity", "--model", FileOf("twin"), "--text", FileOf("text.txt"), "--protocol", "chunks", "--context", "64", "--device", "cpu");
        Assert.Equal(Number(final.Groups[1].Value), CliRunner.Number(report["perplexity"]), 3);
        Assert.Equal(Number(final.Groups[2].Value), CliRunner.Number(report["perplexity_se"]), 4);
    }

    [Fact]
    public void Perplexity_of_chunks_without_a_context_is_llama_perplexity_s_without_one()
    {
        // llama-perplexity -f text_long.txt with no -c: its default n_ctx 512, 4 chunks; ours with no --context the same.
        var final = EstimateLine().Match(File.ReadAllText(FileOf("perplexity_default_run.txt")));
        Assert.True(final.Success, "llama.cpp's final estimate");
        var report = CliRunner.Json("perplexity", "--model", FileOf("twin"), "--text", FileOf("text_long.txt"), "--protocol", "chunks", "--device", "cpu");
        Assert.Equal(512, (int)report["context"]!);
        Assert.Equal("llama-perplexity's default 512", (string)report["context_source"]!);
        Assert.Equal(4, (int)report["windows"]!);
        Assert.Equal(Number(final.Groups[1].Value), CliRunner.Number(report["perplexity"]), 1e-4 * Number(final.Groups[1].Value));
        Assert.Equal(Number(final.Groups[2].Value), CliRunner.Number(report["perplexity_se"]), 1e-4 * Number(final.Groups[2].Value));
    }

    [Theory]
    [InlineData("hellaswag_run.txt", null, "twin")]
    [InlineData("hellaswag_4_run.txt", 4, "twin")]
    [InlineData("hellaswag_run.txt", null, "twin_past")]
    public void HellaSwag_is_llama_cpp_s_score(string run, int? tasks, string twin)
    {
        // Its last line: tasks, acc_norm %, [low %, high %] after all tasks (drawn in its order: the same set).
        var last = HellaSwagLine().Matches(File.ReadAllText(FileOf(run))).Last();
        var report = Ours("--hellaswag", "hellaswag.txt", tasks, twin: twin);
        Assert.Equal(int.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture), (int)report["tasks"]!);
        Assert.Equal(Number(last.Groups[2].Value), 100 * CliRunner.Number(report["acc_norm"]), 6);
        Assert.Equal(Number(last.Groups[3].Value), 100 * CliRunner.Number(report["acc_norm_ci_low"]), 3);
        Assert.Equal(Number(last.Groups[4].Value), 100 * CliRunner.Number(report["acc_norm_ci_high"]), 3);
    }

    [Fact]
    public void HellaSwag_by_default_is_llama_cpp_s_default_run()
    {
        // llama-perplexity --hellaswag with no --hellaswag-tasks over 10042 tasks: the 400 it draws.
        using var dir = new TempDir();
        string file = dir.File("hellaswag.txt");
        File.WriteAllText(file, LlamaCppTasksTests.HellaSwagOfWords(10042));
        var last = HellaSwagLine().Matches(File.ReadAllText(FileOf("hellaswag_default_run.txt"))).Last();
        var report = CliRunner.Json("loglikelihood", "--model", FileOf("twin"), "--hellaswag", file, "--device", "cpu");
        Assert.Equal(400, int.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Equal(400, (int)report["tasks"]!);
        Assert.Equal(Number(last.Groups[2].Value), 100 * CliRunner.Number(report["acc_norm"]), 6);
        Assert.Equal(Number(last.Groups[3].Value), 100 * CliRunner.Number(report["acc_norm_ci_low"]), 3);
        Assert.Equal(Number(last.Groups[4].Value), 100 * CliRunner.Number(report["acc_norm_ci_high"]), 3);
    }

    [Theory]
    [InlineData("winogrande_run.txt", null, "twin")]
    [InlineData("winogrande_7_run.txt", 7, "twin")]
    [InlineData("winogrande_run.txt", null, "twin_past")]
    public void Winogrande_is_llama_cpp_s_score_task_by_task(string run, int? tasks, string twin)
    {
        // A line a task, in the order drawn: its number, the running acc %, both choices' scores, the prediction and
        // the answer. The header line llama.cpp skipped, and its last line unread, as here.
        var runs = WinograndeLine().Matches(File.ReadAllText(FileOf(run))).ToArray();
        using var dir = new TempDir();
        string lines = dir.File("tasks.jsonl");
        var report = Ours("--winogrande", "winogrande.csv", tasks, lines, twin);
        var rows = File.ReadAllLines(lines).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(runs.Length, rows.Length);
        Assert.Contains(rows, r => (int)r["misread_tokens"]! > 0); // a task where llama.cpp reads the first sentence's last logits
        for (int i = 0; i < rows.Length; i++)
        {
            var line = runs[i].Groups;
            for (int s = 0; s < 2; s++)
            {
                // llama.cpp's KV cache is float16: its scores agree to about 1e-4.
                Assert.Equal(Number(line[3 + s].Value), CliRunner.Number(rows[i]["mean_logprobs"]![s]), 2e-3);
            }

            Assert.Equal(int.Parse(line[5].Value, CultureInfo.InvariantCulture), (int)rows[i]["prediction"]!);
            Assert.Equal(int.Parse(line[6].Value, CultureInfo.InvariantCulture), (int)rows[i]["answer"]!);
        }

        Assert.Equal(Number(runs[^1].Groups[2].Value), 100 * CliRunner.Number(report["acc"]), 3);
    }

    [Theory]
    [InlineData("twin")]
    [InlineData("twin_past")]
    public void Multiple_choice_is_llama_cpp_s_score(string twin)
    {
        string text = File.ReadAllText(FileOf("multiple_choice_run.txt"));
        var final = FinalLine().Match(text);
        var chance = ChanceLine().Match(text);
        Assert.True(final.Success && chance.Success, "llama.cpp's final lines");
        var report = Ours("--multiple-choice", "multiple_choice.bin", null, twin: twin);
        Assert.Equal(Number(final.Groups[1].Value), 100 * CliRunner.Number(report["acc"]), 3);
        Assert.Equal(Number(final.Groups[2].Value), 100 * CliRunner.Number(report["acc_stderr"]), 3);
        Assert.Equal(Number(chance.Groups[1].Value), 100 * CliRunner.Number(report["random_chance"]), 3);
        Assert.Equal(Number(chance.Groups[2].Value), 100 * CliRunner.Number(report["random_chance_stderr"]), 3);
    }

    [GeneratedRegex(@"^(\d+)\t([\d.]+)%\t\[([\d.]+)%, ([\d.]+)%\]$", RegexOptions.Multiline)]
    private static partial Regex HellaSwagLine();

    [GeneratedRegex(@"^(\d+)\t([\d.]+)\t\s*(-?[\d.]+)\s+(-?[\d.]+)\s+([12])\s+([12])$", RegexOptions.Multiline)]
    private static partial Regex WinograndeLine();

    [GeneratedRegex(@"Final estimate: PPL = ([\d.]+) \+/- ([\d.]+)")]
    private static partial Regex EstimateLine();

    [GeneratedRegex(@"Final result: ([\d.]+) \+/- ([\d.]+)")]
    private static partial Regex FinalLine();

    [GeneratedRegex(@"Random chance: ([\d.]+) \+/- ([\d.]+)")]
    private static partial Regex ChanceLine();
}
