using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;
using Json.Schema;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// docs/partial.schema.json describes what the tool writes: every kind of partial a corpus run makes
/// (eval and compare, with and without targets, options, shards, several files) is valid against it,
/// and one that lacks what its version requires, or names a version no tool wrote, is not.
/// </summary>
public sealed class PartialSchemaTests : IDisposable
{
    private static readonly JsonSchema Schema = JsonSchema.FromFile(Path.Combine(AppContext.BaseDirectory, "docs", "partial.schema.json"));

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_kind_of_partial_the_tool_writes_is_valid()
    {
        var data = new TestData();
        const int rows = 24, vocab = 53;
        var x = data.Logits(rows, vocab);
        var q = data.Perturbed(x, 0.3);
        var y = data.Targets(rows, vocab, ignoredFraction: 0.2);
        string p = Write("p.npy", x, rows, vocab), t = Write("q.npy", q, rows, vocab), yPath = _dir.File("y.npy");
        NpyFormat.Write(yPath, y.AsSpan(), [rows]);
        string pHead = Write("p0.npy", x.AsSpan(0, 10 * vocab).ToArray(), 10, vocab), pTail = Write("p1.npy", x.AsSpan(10 * vocab).ToArray(), rows - 10, vocab);
        NpyFormat.Write(_dir.File("y0.npy"), y.AsSpan(0, 10), [10]);
        NpyFormat.Write(_dir.File("y1.npy"), y.AsSpan(10), [rows - 10]);
        NpyFormat.Write(_dir.File("bytes.npy"), Enumerable.Range(0, rows).Select(i => 1 + (i % 5)).ToArray().AsSpan(), [rows]);
        var runs = new Dictionary<string, string[]>
        {
            ["eval"] = ["eval", "--logits", p, "--targets", yPath],
            ["eval options"] = ["eval", "--logits", p, "--targets", yPath, "--top-k", "1,5", "--calibration-bins", "7", "--temperature", "1.3",
                "--label-smoothing", "0.1", "--bytes", _dir.File("bytes.npy"), "--shard", "1/3"],
            ["eval several files"] = ["eval", "--logits", pHead, pTail, "--targets", _dir.File("y0.npy"), _dir.File("y1.npy")],
            ["compare"] = ["compare", "--base", p, "--test", t],
            ["compare targets"] = ["compare", "--base", p, "--test", t, "--targets", yPath, "--top-k", "5", "--shard", "0/2"],
            ["compare llama.cpp files"] = ["compare", "--base", LlamaCpp("base.kld"), "--test", LlamaCpp("test.kld")],
            ["perplexity of a model"] = ["perplexity", "--model", Models.ModelFiles.Path("bigram.onnx"), "--tokenizer", Models.ModelFiles.VocabJson,
                "--text", Models.ModelFiles.SampleText, "--context", "32", "--stride", "8"],
            ["compare-models"] = ["compare-models", "--base", Models.ModelFiles.Path("bigram.onnx"), "--test", Models.ModelFiles.Path("bigram.onnx"),
                "--tokenizer", Models.ModelFiles.VocabJson, "--text", Models.ModelFiles.SampleText, "--context", "32", "--stride", "8"],
        };
        foreach (var (name, args) in runs)
        {
            string partial = _dir.File(name.Replace(' ', '-') + ".json");
            var (code, _, stderr) = CliRunner.Run([.. args, "--device", "cpu", "--partial", partial, "--json"]);
            Assert.True(code == 0, $"{name}: exit {code}: {stderr}");
            var json = JsonNode.Parse(File.ReadAllText(partial))!;
            Assert.Equal(CorpusPartial.FormatVersion, (int)json["gpuinfo_partial"]!);
            AssertValid(json, name);
        }
    }

    [Fact]
    public void A_partial_without_what_its_version_requires_is_invalid()
    {
        var data = new TestData();
        const int rows = 12, vocab = 31;
        var x = data.Logits(rows, vocab);
        string p = Write("p.npy", x, rows, vocab), t = Write("q.npy", data.Perturbed(x, 0.3), rows, vocab), partial = _dir.File("c.json");
        Assert.Equal(0, CliRunner.Run(["compare", "--base", p, "--test", t, "--device", "cpu", "--partial", partial, "--json"]).Code);
        var json = JsonNode.Parse(File.ReadAllText(partial))!.AsObject();
        AssertValid(json, "as written");

        var noTv = json.DeepClone().AsObject();
        noTv["exact_sums"]!.AsObject().Remove("tv_sum");
        Assert.False(Evaluate(noTv).IsValid, "a version 8 comparison without tv_sum");
        noTv["gpuinfo_partial"] = 7;
        AssertValid(noTv, "the same as version 7");

        var noReverse = json.DeepClone().AsObject();
        noReverse["exact_sums"]!.AsObject().Remove("reverse_kl_sum");
        Assert.False(Evaluate(noReverse).IsValid, "a version 8 comparison without reverse_kl_sum");

        var future = json.DeepClone().AsObject();
        future["gpuinfo_partial"] = CorpusPartial.FormatVersion + 1;
        Assert.False(Evaluate(future).IsValid, "a version no tool wrote");
    }

    private static string LlamaCpp(string name) => Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", name);

    private string Write(string name, float[] values, int rows, int vocab)
    {
        string path = _dir.File(name);
        NpyFormat.Write(path, values.AsSpan(), [rows, vocab]);
        return path;
    }

    private static EvaluationResults Evaluate(JsonNode json) =>
        Schema.Evaluate(JsonDocument.Parse(json.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static void AssertValid(JsonNode json, string what)
    {
        var results = Evaluate(json);
        var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}"));
        Assert.True(results.IsValid, $"{what}: {string.Join("; ", errors)}");
    }
}
