using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Texts of several documents, each scored on its own, and the window protocols: against NumPy
/// transcriptions of the Hugging Face guide's loop, of lm-evaluation-harness's loglikelihood_rolling
/// and of llama.cpp's perplexity() (make_models.py, golden.json "documents"), with lm-evaluation-harness's
/// word and byte counts; the prefix token each document gets; and their errors.
/// </summary>
public sealed class ModelDocumentsTests
{
    private static string Documents => ModelFiles.Path("documents.jsonl");

    private static string[] Run(string model, params string[] more) =>
        ["perplexity", "--model", ModelFiles.Path(model), "--tokenizer", ModelFiles.VocabJson, .. more, "--device", "cpu"];

    private static string[] Options(JsonNode run)
    {
        string protocol = run["protocol"]!.GetValue<string>();
        var options = new List<string> { "--protocol", protocol, "--context", $"{run["context"]!.GetValue<int>()}", "--batch", "3" };
        if (protocol == "sliding")
        {
            options.AddRange(["--stride", $"{run["stride"]!.GetValue<int>()}"]);
        }

        options.AddRange(["--prefix-token", run["prefix"]!.GetValue<bool>() ? "0" : "none"]);
        return [.. options];
    }

    private static double NllSum(JsonObject report) => CliRunner.Number(report["mean_nll"]) * (long)report["tokens"]!;

    [Fact]
    public void Each_protocol_matches_its_numpy_transcription_document_by_document()
    {
        var golden = ModelFiles.Golden["documents"]!;
        long textTokens = golden["tokens"]!.AsArray().Sum(t => t!.GetValue<long>());
        var means = new Dictionary<string, double>();
        foreach (var run in golden["runs"]!.AsArray())
        {
            string model = run!["model"]!.GetValue<string>(), protocol = run["protocol"]!.GetValue<string>();
            bool prefix = run["prefix"]!.GetValue<bool>();
            string what = $"{model} {protocol} {run["context"]} prefix {prefix}";
            var report = CliRunner.Json(Run($"{model}.onnx", ["--text", Documents, .. Options(run), "--json"]));
            double expected = run["nll_sum"]!.GetValue<double>();
            Assert.Equal(run["scored"]!.GetValue<long>(), (long)report["tokens"]!);
            Assert.True(Math.Abs(NllSum(report) - expected) <= 1e-6 * expected, $"{what}: {NllSum(report)} against NumPy's {expected}");
            Assert.Equal(3, (int)report["documents"]!);
            Assert.Equal(protocol, report["protocol"]!.GetValue<string>());
            Assert.Equal(prefix ? 0 : null, (int?)report["prefix_token"]);
            // Tokens of the text no window scored: with a prefix token, only sliding windows of stride = context leave any.
            Assert.Equal(textTokens - (long)report["tokens"]!, (long)report["unscored"]!);
            if (protocol == "rolling")
            {
                Assert.Equal(0, (long)report["unscored"]!);
            }

            means[what] = NllSum(report) / (long)report["tokens"]!;
        }

        // The window model tells the protocols apart (and sees llama.cpp's BOS in place of each chunk's first token); the bigram reads the same pairs under both.
        Assert.NotEqual(means["window rolling 16 prefix True"], means["window rolling 40 prefix True"], 3);
        Assert.Equal(means["bigram rolling 16 prefix True"], means["bigram rolling 40 prefix True"], 9);
    }

    /// <summary>lm-evaluation-harness's rates: word_perplexity over count_words (re.split pieces), byte_perplexity and bits_per_byte over count_bytes, summed over documents.</summary>
    [Fact]
    public void Rolling_rates_divide_by_lm_evaluation_harness_counts_of_words_and_bytes()
    {
        var golden = ModelFiles.Golden["documents"]!;
        long words = golden["words"]!.GetValue<long>(), bytes = golden["bytes"]!.GetValue<long>();
        var report = CliRunner.Json(Run("window.onnx", "--text", Documents, "--protocol", "rolling", "--context", "16", "--prefix-token", "0", "--json"));
        double nll = NllSum(report);
        Assert.Equal(Math.Exp(nll / words), CliRunner.Number(report["word_perplexity"]), 1e-9 * Math.Exp(nll / words));
        Assert.Equal(Math.Exp(nll / bytes), CliRunner.Number(report["byte_perplexity"]), 1e-9 * Math.Exp(nll / bytes));
        Assert.Equal(nll / bytes / Math.Log(2), CliRunner.Number(report["bits_per_byte"]), 1e-12);

        // The first document starts with a space and ends with a line break: two empty pieces count as words.
        string first = JsonNode.Parse(File.ReadLines(Documents).First())!["text"]!.GetValue<string>();
        var encoded = TokenizerCatalog.Load(ModelFiles.VocabJson).Encode(first, "first", lmEvalWords: true);
        Assert.Equal(System.Text.RegularExpressions.Regex.Split(first, @"\s+").Length, encoded.Words!.Sum());
        Assert.Equal(encoded.Words!.Sum() - 2, TokenizerCatalog.Load(ModelFiles.VocabJson).Encode(first, "first").Words!.Sum());
    }

    [Fact]
    public void Documents_from_files_and_from_jsonl_lines_give_the_same_report_and_shards_merge()
    {
        using var dir = new TempDir();
        var files = File.ReadLines(Documents).Select((line, i) =>
        {
            string path = dir.File($"doc{i}.txt");
            File.WriteAllText(path, JsonNode.Parse(line)!["text"]!.GetValue<string>());
            return path;
        }).ToArray();
        string[] rolling = ["--protocol", "rolling", "--context", "16", "--prefix-token", "0", "--json"];
        var fromJsonl = CliRunner.Json(Run("window.onnx", ["--text", Documents, .. rolling]));
        var fromFiles = CliRunner.Json(Run("window.onnx", ["--text", .. files, .. rolling]));
        for (int i = 0; i < 3; i++)
        {
            CliRunner.Json(Run("window.onnx", ["--text", Documents, .. rolling, "--shard", $"{i}/3", "--partial-dir", dir.File("parts")]));
        }

        var merged = CliRunner.Json("merge", dir.File("parts"), "--json");
        foreach (string key in new[] { "tokens", "mean_nll", "mean_nll_se", "perplexity", "bits_per_byte", "word_perplexity", "documents", "windows" })
        {
            Assert.Equal(fromJsonl[key]!.ToJsonString(), fromFiles[key]!.ToJsonString());
        }

        foreach (string key in new[] { "tokens", "mean_nll", "mean_nll_se", "perplexity", "bits_per_byte", "word_perplexity" })
        {
            Assert.Equal(fromJsonl[key]!.ToJsonString(), merged[key]!.ToJsonString());
        }

        Assert.Equal($"{files[0]} (+2 more)", fromFiles["text"]!.GetValue<string>());

        // Another protocol is another source: its partials do not merge with these.
        CliRunner.Json(Run("window.onnx", "--text", Documents, "--context", "16", "--stride", "16", "--prefix-token", "0", "--shard", "0/3", "--partial", dir.File("sliding.json")));
        CliRunner.Fails(ExitCode.BadData, ["sliding.json"], "merge", dir.File("sliding.json"), dir.File("parts/part-1-of-3.json"), dir.File("parts/part-2-of-3.json"));
    }

    [Fact]
    public void Prefix_tokens_come_from_the_tokenizers_files()
    {
        Assert.Equal(50256, TokenizerCatalog.Load("gpt2").DocumentPrefix);
        Assert.Equal(100257, TokenizerCatalog.Load("cl100k_base").DocumentPrefix);
        Assert.Equal(199999, TokenizerCatalog.Load("o200k_base").DocumentPrefix);
        Assert.Null(TokenizerCatalog.Load(ModelFiles.VocabJson).DocumentPrefix); // no <|endoftext|>, no tokenizer_config.json

        using var dir = new TempDir();
        File.Copy(ModelFiles.VocabJson, dir.File("vocab.json"));
        File.Copy(ModelFiles.Path("merges.txt"), dir.File("merges.txt"));
        var vocab = JsonNode.Parse(File.ReadAllText(ModelFiles.VocabJson))!.AsObject();
        var (token, id) = vocab.Select(kv => (kv.Key, kv.Value!.GetValue<int>())).First(kv => kv.Item2 == 7);
        File.WriteAllText(dir.File("tokenizer_config.json"), new JsonObject { ["bos_token"] = null, ["eos_token"] = new JsonObject { ["content"] = token } }.ToJsonString());
        Assert.Equal(id, TokenizerCatalog.Load(dir.File("vocab.json")).DocumentPrefix); // no BOS: the EOS, as transformers' object form

        File.WriteAllText(dir.File("tokenizer_config.json"), new JsonObject { ["bos_token"] = "<s>" }.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("vocab.json")));
        Assert.Contains("bos_token '<s>' is not one token", e.Message, StringComparison.Ordinal);

        // auto takes it; a token's text and an id give the same run.
        File.WriteAllText(dir.File("tokenizer_config.json"), new JsonObject { ["bos_token"] = token }.ToJsonString());
        string[] common = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--text", ModelFiles.SampleText, "--context", "16", "--protocol", "rolling", "--device", "cpu", "--json"];
        var auto = CliRunner.Json([.. common, "--tokenizer", dir.File("vocab.json")]);
        var byText = CliRunner.Json([.. common, "--tokenizer", ModelFiles.VocabJson, "--prefix-token", token]);
        var byId = CliRunner.Json([.. common, "--tokenizer", ModelFiles.VocabJson, "--prefix-token", $"{id}"]);
        Assert.Equal(id, (int)auto["prefix_token"]!);
        Assert.Equal(auto["mean_nll"]!.ToJsonString(), byText["mean_nll"]!.ToJsonString());
        Assert.Equal(auto["mean_nll"]!.ToJsonString(), byId["mean_nll"]!.ToJsonString());
        Assert.Equal(ModelFiles.Sample().Ids.Length, (long)auto["tokens"]!); // every token scored, the first from the prefix
    }

    [Fact]
    public void Bad_documents_and_options_are_one_line_errors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.jsonl"), "{\"text\": \"a b c\"}\n\n[1, 2]\n");
        File.WriteAllText(dir.File("field.jsonl"), "{\"page\": \"a b c\"}\n");
        File.WriteAllText(dir.File("number.jsonl"), "{\"text\": 3}\n");
        File.WriteAllText(dir.File("broken.jsonl"), "{\"text\": \"a\n");
        File.WriteAllText(dir.File("blank.jsonl"), "\n \n");
        File.WriteAllText(dir.File("empty.txt"), string.Empty);
        string[] rolling = ["--protocol", "rolling", "--prefix-token", "0", "--context", "16"];
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("bad.jsonl")}: line 3 is a JSON array"], Run("window.onnx", ["--text", dir.File("bad.jsonl"), .. rolling]));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("field.jsonl")}: line 1 has no \"text\" field"], Run("window.onnx", ["--text", dir.File("field.jsonl"), .. rolling]));
        Assert.Equal(3, (long)CliRunner.Json(Run("window.onnx", ["--text", dir.File("field.jsonl"), "--text-field", "page", .. rolling, "--json"]))["tokens"]!);
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("number.jsonl")}: line 1: \"text\" is a JSON number"], Run("window.onnx", ["--text", dir.File("number.jsonl"), .. rolling]));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("broken.jsonl")}: line 1 is not JSON"], Run("window.onnx", ["--text", dir.File("broken.jsonl"), .. rolling]));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("blank.jsonl")}: holds no documents"], Run("window.onnx", ["--text", dir.File("blank.jsonl"), .. rolling]));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("empty.txt")}: has 0 tokens: a document to score needs at least 1"], Run("window.onnx", ["--text", ModelFiles.SampleText, dir.File("empty.txt"), .. rolling]));

        CliRunner.Fails(ExitCode.Usage, ["vocab.json names no BOS or EOS token", "--prefix-token"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "rolling", "--context", "16"));
        CliRunner.Fails(ExitCode.Usage, ["--prefix-token '<nope>' is not one token"], Run("window.onnx", "--text", ModelFiles.SampleText, "--prefix-token", "<nope>", "--context", "16"));
        CliRunner.Fails(ExitCode.Usage, ["--stride applies to --protocol sliding"], Run("window.onnx", ["--text", ModelFiles.SampleText, .. rolling, "--stride", "8"]));
        CliRunner.Fails(ExitCode.Usage, ["--protocol must be sliding, rolling or chunks"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "lm-eval"));
        CliRunner.Fails(ExitCode.Usage, ["--protocol chunks needs --context >= 4"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "chunks", "--context", "3"));
        CliRunner.Fails(ExitCode.Usage, ["--stride applies to --protocol sliding; chunks windows"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "chunks", "--stride", "3"));
        CliRunner.Fails(ExitCode.Usage, ["--tokens have no tokenizer to find the prefix token 'auto'"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--protocol", "rolling", "--context", "16", "--device", "cpu");
        CliRunner.Fails(ExitCode.BadData, ["vocabulary 300 has no token 300"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--prefix-token", "300", "--context", "16", "--device", "cpu");

        // Totals of the whole text with ids of several documents and no prefix token: each document's first goes unscored.
        CliRunner.Fails(ExitCode.Usage, ["--total-bytes counts the whole text, but 2 of its tokens go unscored (each document's first"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), ModelFiles.Path("sample_tokens.npy"), "--context", "16", "--total-bytes", "100", "--device", "cpu");
        var ids = CliRunner.Json("perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), ModelFiles.Path("sample_tokens.npy"),
            "--protocol", "rolling", "--prefix-token", "0", "--context", "16", "--total-bytes", "100", "--device", "cpu", "--json");
        Assert.Equal(2 * ModelFiles.Golden["tokens"]!.GetValue<long>(), (long)ids["tokens"]!);
    }
}
