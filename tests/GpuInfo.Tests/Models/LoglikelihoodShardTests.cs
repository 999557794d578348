using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>loglikelihood --shard i/n --partial-dir DIR</c> and <c>merge DIR</c>: the shards' documents merged give the whole
/// run's report, figure for figure to the last bit (the bootstrap's <c>perplexity_stderr</c> and the comparisons
/// included), and their per-document lines are the whole run's; partials of other runs, missing or repeated shards are refused.
/// </summary>
public sealed class LoglikelihoodShardTests
{
    private static readonly JsonObject Reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;

    /// <summary>Fields that tell how or where a run ran, not what it measured.</summary>
    private static readonly HashSet<string> HowItRan = ["seconds", "tokens_per_second", "load_seconds", "tokenize_seconds", "model_seconds", "other_seconds", "outside_model_fraction",
        "device", "provider", "partials", "shard", "shard_from", "first_document", "past_reuse", "shared_tokens"];

    private static string[] Input(TempDir dir, string kind) => kind switch
    {
        "lambada" => ["--text", Passages(dir)],
        "lambada-base" => ["--text", Passages(dir), "--base", ModelFiles.Path("window.onnx")],
        "truthfulqa_mc2" => ["--samples", ModelFiles.Path($"samples_{kind}.jsonl"), "--labels-field", "doc.mc2_targets.labels"],
        "few-shot" => ["--text", FewShot(dir, "few_shot.jsonl", "Q: two and two? A: four\nQ: the sky? A: blue\n"), "--text-field", "query", "--choices-field", "choices", "--gold-field", "gold"],
        "few-shot-files" => ["--text", FewShot(dir, "a.jsonl", "Q: two and two? A: four\n"), FewShot(dir, "b.jsonl", "Q: the sky? A: blue\nQ: grass? A: green\n"), "--text-field", "query", "--choices-field", "choices", "--gold-field", "gold"],
        "two-tasks" => ["--samples", ModelFiles.Path("samples_choices.jsonl"), Copy(dir, "samples_paired_base_choices.jsonl", "samples_other_2026-12-07T10-11-12.5.jsonl")], // MMLU-like: a file per task
        _ => ["--samples", ModelFiles.Path($"samples_{kind}.jsonl")],
    };

    private static string Copy(TempDir dir, string file, string name)
    {
        string path = dir.File(name);
        File.Copy(ModelFiles.Path(file), path, overwrite: true);
        return path;
    }

    /// <summary>Seven questions after the same examples (as MMLU's five of a subject): documents that begin alike.</summary>
    private static string FewShot(TempDir dir, string name, string examples)
    {
        string file = dir.File(name);
        string[] questions = ["the sea?", "grass?", "snow at night?", "one and one?", "a model?", "the sun?", "rain?"];
        File.WriteAllLines(file, questions.Select((q, i) => JsonSerializer.Serialize(new { query = $"{examples}Q: {q} A:", choices = new[] { " green", " white", " two", " blue" }, gold = i % 4 })));
        return file;
    }

    private static string Passages(TempDir dir)
    {
        string file = dir.File("passages.jsonl");
        File.WriteAllLines(file, Reference["passages"]!.AsArray().Select(p => JsonSerializer.Serialize(new { text = (string)p! })));
        return file;
    }

    private static string[] Run(string[] input, params string[] more) => RunOf("window.onnx", input, more);

    private static string[] RunOf(string model, string[] input, params string[] more) =>
        ["loglikelihood", "--model", ModelFiles.Path(model), "--tokenizer", ModelFiles.VocabJson, .. input, "--prefix-token", "7", "--device", "cpu", "--bootstrap-iters", "3000", .. more,
            "--context", input.Contains("--labels-field") ? "32" : input.Contains("query") ? "96" : "16"]; // truthfulqa_mc2's answers run to 21 tokens; the few-shot documents whole

    [Theory]
    [InlineData("lambada", 3, "window.onnx")]
    [InlineData("lambada-base", 2, "window.onnx")]
    [InlineData("lambada", 7, "window.onnx")]
    [InlineData("choices", 3, "window.onnx")]
    [InlineData("winogrande", 2, "window.onnx")]
    [InlineData("truthfulqa_mc2", 3, "window.onnx")]
    [InlineData("two-tasks", 4, "window.onnx")]
    [InlineData("choices", 3, "optimum/gpt2_with_past.onnx")] // a document's requests share their first tokens
    [InlineData("two-tasks", 5, "optimum/gpt2_with_past.onnx")]
    [InlineData("few-shot", 3, "optimum/llama_gqa_with_past.onnx")] // a file's documents too: shards that begin inside one run its first request again
    [InlineData("few-shot-files", 4, "optimum/llama_gqa_with_past.onnx")] // a section a file
    public void Shards_merge_into_the_whole_run(string kind, int shards, string model)
    {
        using var dir = new TempDir();
        var input = Input(dir, kind);
        string wholeLines = dir.File("whole.jsonl");
        var whole = CliRunner.Json(RunOf(model, input, "--per-document", wholeLines));
        Assert.Equal(model != "window.onnx", CliRunner.Number(whole["shared_tokens"]) > 0);
        var lines = new List<string>();
        for (int i = 0; i < shards; i++)
        {
            string shardLines = dir.File($"shard{i}.jsonl");
            var part = CliRunner.Json(RunOf(model, input, "--shard", $"{i}/{shards}", "--partial-dir", dir.File("parts"), "--per-document", shardLines));
            Assert.Equal($"{i}/{shards}", (string)part["shard"]!);
            lines.AddRange(File.ReadAllLines(shardLines));
        }

        var merged = CliRunner.Json("merge", dir.File("parts"), "--json");
        Assert.Equal(shards, (int)merged["partials"]!);
        var figures = whole.Where(kv => !HowItRan.Contains(kv.Key)).Select(kv => kv.Key).ToList();
        Assert.Contains(kind.StartsWith("lambada", StringComparison.Ordinal) ? "perplexity_stderr" : kind == "truthfulqa_mc2" ? "harness_acc" : kind == "two-tasks" ? "tasks" : "acc_norm", figures);
        Assert.Contains(kind == "lambada-base" ? "base_perplexity_stderr" : kind.StartsWith("lambada", StringComparison.Ordinal) || kind.StartsWith("few-shot", StringComparison.Ordinal) ? "acc" : "same_prediction", figures);
        foreach (string key in figures)
        {
            Assert.True(JsonNode.DeepEquals(whole[key], merged[key]), $"{key}: {whole[key]?.ToJsonString()} in the whole run, {merged[key]?.ToJsonString()} merged");
        }

        Assert.Equal(figures, merged.Where(kv => !HowItRan.Contains(kv.Key)).Select(kv => kv.Key));
        Assert.Equal(File.ReadAllLines(wholeLines), lines);
    }

    [Fact]
    public void Partials_of_other_runs_and_missing_or_repeated_shards_are_refused()
    {
        using var dir = new TempDir();
        var input = Input(dir, "lambada");
        string a = dir.File("a.json"), b = dir.File("b.json"), c = dir.File("c.json"), other = dir.File("other.json");
        CliRunner.Json(Run(input, "--shard", "0/2", "--partial", a));
        CliRunner.Json(Run(input, "--shard", "1/2", "--partial", b));
        CliRunner.Json(Run(input, "--shard", "1/3", "--partial", c));
        CliRunner.Json([.. Run(input, "--shard", "1/2", "--partial", other).Select(s => s == "16" ? "12" : s)]);

        CliRunner.Fails(3, [a, "the run has 2 shards; missing: 1/2"], "merge", a);
        CliRunner.Fails(3, [a, "shard 0/2 is also in"], "merge", a, b, a);
        CliRunner.Fails(3, [c, "shard 1/3 of 7 documents belongs to another run"], "merge", a, c);
        CliRunner.Fails(3, [other, "context is 12 here but 16 in", "cannot be merged"], "merge", a, other);
        CliRunner.Fails(2, ["--plot", "loglikelihood partials"], "merge", a, b, "--plot", dir.File("x.svg"));

        // Another kind of partial after a loglikelihood one.
        string eval = dir.File("eval.json");
        File.WriteAllText(eval, """{"gpuinfo_partial": 8, "kind": "eval"}""");
        CliRunner.Fails(3, [eval, "a corpus run's partial cannot be merged with loglikelihood partials"], "merge", a, eval);
        CliRunner.Fails(3, [a, "a loglikelihood partial cannot be merged with a corpus run's partials"], "merge", eval, a);

        // A partial whose identity lacks what the merged report names.
        string whole = dir.File("whole.json"), bare = dir.File("bare.json");
        CliRunner.Json(Run(input, "--partial", whole));
        File.WriteAllText(bare, File.ReadAllText(whole).Replace("\"bootstrap_iters\":\"3000\"", "\"bootstrap_iters\":\"many\""));
        CliRunner.Fails(3, [bare, "its identity has no valid \"bootstrap_iters\""], "merge", bare);

        // A shard of no documents: 7 passages over 8 shards.
        CliRunner.Fails(2, ["--shard 0/8", "the run has 7 documents, fewer than its 8 shards"], Run(input, "--shard", "0/8"));
    }
}
