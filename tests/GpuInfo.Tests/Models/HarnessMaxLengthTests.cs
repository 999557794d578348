using System.Text.Json.Nodes;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <c>loglikelihood</c>'s default --context: lm-evaluation-harness's max_length of the model, its own
/// <c>resolve_max_length</c> over configs as exports write them (make_max_length_reference.py), and a run from an
/// export's folder equal to one given that --context.
/// </summary>
public sealed class HarnessMaxLengthTests
{
    private static string Prefix => JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["prefix"]!.ToString();

    public static TheoryData<string> Cases() => [.. JsonNode.Parse(File.ReadAllText(ModelFiles.Path("max_length_reference.json")))!.AsArray().Select(c => (string)c!["name"]!)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_length_is_the_harness_resolve_max_length(string name)
    {
        var reference = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("max_length_reference.json")))!.AsArray().Single(c => (string)c!["name"]! == name)!;
        using var dir = new TempDir();
        string? Write(string key, string file)
        {
            if (reference[key] is not { } content)
            {
                return null;
            }

            File.WriteAllText(dir.File(file), content.ToJsonString());
            return dir.File(file);
        }

        var (length, source) = HarnessMaxLength.Resolve(Write("config", "config.json"), Write("tokenizer_config", "tokenizer_config.json"));
        Assert.Equal((int)reference["max_length"]!, length);
        Assert.Contains(length == HarnessMaxLength.Default ? "the harness's default" : "'s ", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"n_positions\": \"1024\"}", "its n_positions is \"1024\", not a context length")]
    [InlineData("{\"text_config\": {\"max_position_embeddings\": 1}}", "its text_config.max_position_embeddings is 1, not a context length")]
    [InlineData("{\"n_ctx\": 511.5}", "its n_ctx is 511.5")]
    [InlineData("[1024]", "is not a JSON object")]
    [InlineData("{\"n_ctx\": ", "is not JSON")]
    public void A_length_that_is_not_one_is_named(string config, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), config);
        var e = Assert.Throws<InvalidFileException>(() => HarnessMaxLength.Resolve(dir.File("config.json"), null));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(dir.File("config.json"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_export_folder_gives_its_config_length_as_the_context()
    {
        using var dir = new TempDir();
        string folder = dir.File("export");
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        File.Copy(ModelFiles.Path("window.onnx"), Path.Combine(folder, "onnx", "model.onnx"));
        File.Copy(ModelFiles.VocabJson, Path.Combine(folder, "vocab.json"));
        File.Copy(ModelFiles.Path("merges.txt"), Path.Combine(folder, "merges.txt"));
        string samples = ModelFiles.Path("samples_lambada.jsonl");
        var truncated = new List<int>();
        foreach (int positions in new[] { 64, 8 })
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), $"{{\"model_type\": \"gpt2\", \"n_positions\": {positions}, \"n_ctx\": 2}}");
            var byDefault = CliRunner.Json("loglikelihood", "--model", folder, "--samples", samples, "--device", "cpu", "--bootstrap-iters", "0", "--prefix-token", Prefix);
            var given = CliRunner.Json("loglikelihood", "--model", folder, "--samples", samples, "--device", "cpu", "--bootstrap-iters", "0", "--prefix-token", Prefix, "--context", positions.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(positions, (int)byDefault["context"]!);
            Assert.Equal($"{Path.Combine(folder, "config.json")}'s n_positions", (string)byDefault["context_source"]!);
            Assert.Equal("--context", (string)given["context_source"]!);
            truncated.Add((int)byDefault["truncated"]!);
            foreach (string figure in new[] { "acc", "perplexity", "mean_loglikelihood", "truncated", "context_tokens" })
            {
                Assert.Equal(given[figure]!.ToJsonString(), byDefault[figure]!.ToJsonString());
            }
        }

        Assert.True(truncated[1] > truncated[0], $"8 positions cut {truncated[1]} requests, 64 cut {truncated[0]}");

        // Without a config: the tokenizer's model_max_length, else the harness's default 2048, which this 64-position
        // model cannot run: said, naming the way out.
        File.Delete(Path.Combine(folder, "config.json"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), "{\"model_max_length\": 64}");
        var tokenizer = CliRunner.Json("loglikelihood", "--model", folder, "--samples", samples, "--device", "cpu", "--bootstrap-iters", "0", "--prefix-token", Prefix);
        Assert.Equal(64, (int)tokenizer["context"]!);
        Assert.Equal($"{Path.Combine(folder, "tokenizer_config.json")}'s model_max_length", (string)tokenizer["context_source"]!);
        File.Delete(Path.Combine(folder, "tokenizer_config.json"));
        CliRunner.Fails(3, ["a model built for fewer positions needs a shorter context window"], "loglikelihood", "--model", folder, "--samples", samples, "--device", "cpu", "--prefix-token", Prefix);
    }

    [Fact]
    public void Rolling_windows_take_the_model_length_and_sliding_ones_name_it_when_they_overrun()
    {
        string twin = Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", "twin");
        string text = Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", "text.txt");
        var byDefault = CliRunner.Json("perplexity", "--model", twin, "--text", text, "--protocol", "rolling", "--device", "cpu");
        var given = CliRunner.Json("perplexity", "--model", twin, "--text", text, "--protocol", "rolling", "--context", "512", "--device", "cpu");
        Assert.Equal(512, (int)byDefault["context"]!);
        Assert.Equal($"{Path.Combine(twin, "config.json")}'s max_position_embeddings", (string)byDefault["context_source"]!);
        Assert.Equal("--context", (string)given["context_source"]!);
        Assert.Equal(CliRunner.Number(given["perplexity"]), CliRunner.Number(byDefault["perplexity"]));

        // Sliding windows keep the guide's 1024, which this 512-position model cannot run: said, with its length.
        CliRunner.Fails(3, ["a model built for fewer positions needs a shorter context window", "config.json's max_position_embeddings is 512"], "perplexity", "--model", twin, "--text", text, "--device", "cpu");
        Assert.Equal("the default 1024", (string)CliRunner.Json("perplexity", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--device", "cpu")["context_source"]!);
    }
}
