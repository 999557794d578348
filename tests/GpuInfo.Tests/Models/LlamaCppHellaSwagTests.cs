using System.Text.Json.Nodes;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>loglikelihood --hellaswag</c>: llama.cpp's HellaSwag score (make_loglikelihood_reference.py: its hellaswag_score
/// transcribed over window.onnx in float64, hellaswag.txt in its file layout), and its task draws against
/// llama_hellaswag_select.cpp built with g++ (std::mt19937 and libstdc++'s uniform_int_distribution).
/// </summary>
public sealed class LlamaCppHellaSwagTests
{
    private static JsonNode Reference => JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["hellaswag"]!;

    private static string[] Run(params string[] more) => Of(ModelFiles.Path("hellaswag.txt"), "64", more);

    private static string[] Of(string file, string context, params string[] more) =>
        ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--hellaswag", file, "--context", context, "--device", "cpu", "--json", .. more];

    [Theory]
    [InlineData("10042/400")]
    [InlineData("3/3")]
    [InlineData("1000/999")]
    public void Tasks_are_drawn_as_llama_cpp_built_with_libstdcxx_draws_them(string draw)
    {
        int total = int.Parse(draw.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture), count = int.Parse(draw.Split('/')[1], System.Globalization.CultureInfo.InvariantCulture);
        var tasks = Enumerable.Range(0, total).Select(i => new LlamaCppHellaSwag.Task(i, "", 0, ["", "", "", ""])).ToArray();
        int[] expected = [.. Reference["draws"]![draw]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(expected, LlamaCppHellaSwag.Select(tasks, count).Select(t => t.Index).ToArray());
    }

    [Theory]
    [InlineData(null, "all", 1)]
    [InlineData(4, "first_4", 3)]
    public void The_score_is_llama_cpp_hellaswag_score(int? count, string key, int batch)
    {
        var reference = Reference;
        using var dir = new TempDir();
        string lines = dir.File("tasks.jsonl");
        var report = CliRunner.Json(Run([.. count is null ? Array.Empty<string>() : ["--hellaswag-tasks", count.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)], "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--per-document", lines]));
        var expected = reference[key]!;
        int[] selected = [.. expected["selected"]!.AsArray().Select(i => (int)i!)];
        Assert.Equal(selected.Length, (int)report["tasks"]!);
        Assert.Equal(10, (int)report["tasks_in_file"]!);
        Assert.Equal(CliRunner.Number(expected["acc_norm"]), CliRunner.Number(report["acc_norm"]), 12);
        Assert.Equal(CliRunner.Number(expected["ci_low"]), CliRunner.Number(report["acc_norm_ci_low"]), 12);
        Assert.Equal(CliRunner.Number(expected["ci_high"]), CliRunner.Number(report["acc_norm_ci_high"]), 12);
        var rows = File.ReadAllLines(lines).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(selected, rows.Select(r => (int)r["task"]!).ToArray());
        foreach (var row in rows)
        {
            var task = reference["tasks"]![(int)row["task"]!]!;
            Assert.Equal((int)task["prediction"]!, (int)row["prediction"]!);
            for (int e = 0; e < 4; e++)
            {
                double mean = CliRunner.Number(task["mean_logprobs"]![e]);
                Assert.Equal(mean, CliRunner.Number(row["mean_logprobs"]![e]), Math.Abs(mean) * 1e-5);
            }
        }
    }

    [Fact]
    public void Bad_files_and_options_are_named()
    {
        using var dir = new TempDir();
        string file = dir.File("hellaswag.txt");
        File.WriteAllText(file, "a context\n1\none\ntwo\nthree\n");
        CliRunner.Fails(3, [file, "has 5 lines, not a multiple of 6"], Of(file, "64"));
        File.WriteAllText(file, "a context\nfour\none\ntwo\nthree\nfour\n");
        CliRunner.Fails(3, [$"{file}:2", "not the gold ending's index 0 to 3"], Of(file, "64"));
        CliRunner.Fails(2, ["--text does not apply to it"], Run("--text", ModelFiles.SampleText));
        CliRunner.Fails(2, ["--hellaswag-tasks 0"], Run("--hellaswag-tasks", "0"));
        CliRunner.Fails(2, ["--hellaswag-tasks: give --hellaswag"], "loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--hellaswag-tasks", "3");
        CliRunner.Fails(3, ["more than --context 4 + 1 score whole"], Of(ModelFiles.Path("hellaswag.txt"), "4"));
    }
}
