using System.Text.Json.Nodes;
using GpuInfo.Cli;
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

        // The same ids split into other documents are another source (another set of windows).
        var text = string.Concat(files.Select(File.ReadAllText));
        File.WriteAllText(dir.File("other0.txt"), text[..40]);
        File.WriteAllText(dir.File("other1.txt"), text[40..]);
        CliRunner.Json(Run("window.onnx", ["--text", dir.File("other0.txt"), dir.File("other1.txt"), "--context", "16", "--shard", "1/2", "--partial", dir.File("other-1.json")]));
        CliRunner.Json(Run("window.onnx", ["--text", files[0], files[1], files[2], "--context", "16", "--shard", "0/2", "--partial", dir.File("three-0.json")]));
        CliRunner.Fails(ExitCode.BadData, ["other-1.json"], "merge", dir.File("three-0.json"), dir.File("other-1.json"));

        // Another protocol is another source: its partials do not merge with these.
        CliRunner.Json(Run("window.onnx", "--text", Documents, "--context", "16", "--stride", "16", "--prefix-token", "0", "--shard", "0/3", "--partial", dir.File("sliding.json")));
        CliRunner.Fails(ExitCode.BadData, ["sliding.json"], "merge", dir.File("sliding.json"), dir.File("parts/part-1-of-3.json"), dir.File("parts/part-2-of-3.json"));
    }

    /// <summary>--per-document: each document's sums, equal to that document scored alone, adding up to the run's, and over shards to the whole run's.</summary>
    [Fact]
    public void Per_document_lines_are_each_document_scored_alone_and_add_up()
    {
        using var dir = new TempDir();
        var golden = ModelFiles.Golden["documents"]!;
        string[] rolling = ["--protocol", "rolling", "--context", "16", "--prefix-token", "0", "--json"];
        var report = CliRunner.Json(Run("window.onnx", ["--text", Documents, .. rolling, "--per-document", dir.File("docs.jsonl")]));
        var lines = File.ReadAllLines(dir.File("docs.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal(golden["tokens"]!.AsArray().Select(t => t!.GetValue<long>()), lines.Select(l => (long)l["tokens"]!));
        Assert.Equal(golden["words"]!.GetValue<long>(), lines.Sum(l => (long)l["words"]!));
        Assert.Equal(golden["bytes"]!.GetValue<long>(), lines.Sum(l => (long)l["bytes"]!));
        double total = NllSum(report);
        Assert.Equal(total, lines.Sum(l => CliRunner.Number(l["loss_sum"])), 1e-6 * total);
        var documentLines = File.ReadAllLines(Documents);
        for (int d = 0; d < 3; d++)
        {
            Assert.Equal($"{Documents}:{d + 1}", lines[d]["name"]!.GetValue<string>());
            string alone = dir.File($"alone{d}.jsonl");
            File.WriteAllText(alone, documentLines[d] + "\n");
            var single = CliRunner.Json(Run("window.onnx", ["--text", alone, .. rolling]));
            Assert.Equal((long)single["tokens"]!, (long)lines[d]["tokens"]!);
            Assert.Equal(CliRunner.Number(single["mean_nll"]), CliRunner.Number(lines[d]["mean_loss"]), 1e-6 * CliRunner.Number(single["mean_nll"]));
            Assert.Equal(CliRunner.Number(single["word_perplexity"]), CliRunner.Number(lines[d]["word_perplexity"]), 1e-5 * CliRunner.Number(single["word_perplexity"]));
        }

        // Shards: each writes the documents its rows reach; a document's lines add up to its whole-run line.
        var byDocument = new Dictionary<long, (long Tokens, double Sum)>();
        for (int i = 0; i < 2; i++)
        {
            CliRunner.Json(Run("window.onnx", ["--text", Documents, .. rolling, "--shard", $"{i}/2", "--per-document", dir.File($"shard{i}.jsonl")]));
            foreach (var line in File.ReadAllLines(dir.File($"shard{i}.jsonl")).Select(l => JsonNode.Parse(l)!))
            {
                var (tokens, sum) = byDocument.GetValueOrDefault((long)line["document"]!);
                byDocument[(long)line["document"]!] = (tokens + (long)line["tokens"]!, sum + CliRunner.Number(line["loss_sum"]));
            }
        }

        for (int d = 0; d < 3; d++)
        {
            Assert.Equal((long)lines[d]["tokens"]!, byDocument[d].Tokens);
            Assert.Equal(CliRunner.Number(lines[d]["loss_sum"]), byDocument[d].Sum, 1e-9 * byDocument[d].Sum);
        }

        // compare-models: the per-token measure's sums, KL by default.
        var compare = CliRunner.Json("compare-models", "--base", ModelFiles.Path("window.onnx"), "--test", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson,
            "--text", Documents, "--protocol", "rolling", "--context", "16", "--prefix-token", "0", "--per-document", dir.File("kl.jsonl"), "--device", "cpu", "--json");
        var kl = File.ReadAllLines(dir.File("kl.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        double meanKl = kl.Sum(l => CliRunner.Number(l["kl_sum"])) / kl.Sum(l => (long)l["tokens"]!);
        Assert.Equal(CliRunner.Number(compare["mean_kld"]), meanKl, 1e-6 * meanKl);
        CliRunner.Fails(ExitCode.Usage, ["--per-token-measure chooses what --per-token and --per-document write"], Run("window.onnx", ["--text", Documents, .. rolling, "--per-token-measure", "entropy"]));
        CliRunner.Fails(ExitCode.Usage, ["--per-document and --per-token both name"], Run("window.onnx", ["--text", Documents, .. rolling, "--per-token", dir.File("same"), "--per-document", dir.File("same")]));
        CliRunner.Fails(ExitCode.Usage, [dir.File("missing/docs.jsonl")], Run("window.onnx", ["--text", Documents, .. rolling, "--per-document", dir.File("missing/docs.jsonl")]));

        // An infinite KL (a token one model masks) and an overflowing word perplexity are null, as in the report, not a failure after the run.
        CliRunner.Json("compare-models", "--base", ModelFiles.Path("bigram.onnx"), "--test", ModelFiles.Path("masked_token.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"),
            "--context", "16", "--per-document", dir.File("masked.jsonl"), "--device", "cpu");
        var masked = JsonNode.Parse(File.ReadAllLines(dir.File("masked.jsonl")).Single())!;
        Assert.Null(masked["kl_sum"]);
        File.WriteAllText(dir.File("long.jsonl"), new JsonObject { ["text"] = string.Concat(Enumerable.Repeat("Perplexity,", 40)) }.ToJsonString() + "\n");
        CliRunner.Json(Run("window.onnx", ["--text", dir.File("long.jsonl"), .. rolling, "--per-document", dir.File("long-docs.jsonl")]));
        var longLine = JsonNode.Parse(File.ReadAllLines(dir.File("long-docs.jsonl")).Single())!;
        Assert.Equal(1, (long)longLine["words"]!);
        Assert.Null(longLine["word_perplexity"]);
    }

    /// <summary>ib --model over documents: a context shown for a row is its own document's text before the token, never the end of the document before.</summary>
    [Fact]
    public void Ib_examples_show_only_their_own_documents_text()
    {
        var texts = File.ReadAllLines(Documents).Select(l => JsonNode.Parse(l)!["text"]!.GetValue<string>()).ToArray();
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        var joined = TokenizedText.Join([.. texts.Select((t, i) => tokenizer.Encode(t, $"document {i}", lmEvalWords: true))], 0, "documents");
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("window.onnx"));
        using var source = new ModelRowSource(model, joined, new ModelWindowOptions { Protocol = WindowProtocol.Rolling, Context = 16 });
        var contexts = new GpuInfo.Cli.Verbs.ModelContexts(source, new ModelText(joined, tokenizer, string.Concat(texts), 0));
        for (int d = 0; d < texts.Length; d++)
        {
            for (long row = source.Windows.DocumentFirstRow(d); row < source.Windows.DocumentFirstRow(d) + 4; row++)
            {
                var example = contexts.Example(row);
                string shown = example["context"]!.GetValue<string>() + example["next"]!.GetValue<string>();
                Assert.True(texts[d].StartsWith(shown, StringComparison.Ordinal), $"document {d}, row {row}: '{shown}'");
            }
        }
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

        // A config naming a token the vocabulary lacks (Qwen's <|im_end|> beside a vocab.json) or not JSON at
        // all leaves no prefix, and only a run that asks for one fails: sliding windows run as before.
        foreach (string config in new[] { new JsonObject { ["bos_token"] = null, ["eos_token"] = "<|im_end|>" }.ToJsonString(), "{\"bos_token\": " })
        {
            File.WriteAllText(dir.File("tokenizer_config.json"), config);
            var loaded = TokenizerCatalog.Load(dir.File("vocab.json"));
            Assert.Null(loaded.DocumentPrefix);
            Assert.Contains("tokenizer_config.json", loaded.DocumentPrefixSource, StringComparison.Ordinal);
            Assert.Equal(ModelFiles.Golden["tokens"]!.GetValue<long>() - 1,
                (long)CliRunner.Json("perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", dir.File("vocab.json"), "--text", ModelFiles.SampleText, "--context", "16", "--device", "cpu", "--json")["tokens"]!);
            CliRunner.Fails(ExitCode.Usage, ["--prefix-token auto, but", "has none", "tokenizer_config.json"],
                "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", dir.File("vocab.json"), "--text", ModelFiles.SampleText, "--prefix-token", "auto", "--device", "cpu");
        }

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

    /// <summary>GPT-2's tokenizer.json names its &lt;|endoftext|&gt; only among its added tokens; a SentencePiece model its BOS.</summary>
    [Fact]
    public void Prefix_tokens_fall_back_to_endoftext_and_to_a_sentencepiece_bos()
    {
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), """[{"id": 300, "content": "<|endoftext|>", "special": true}]""");
        File.WriteAllText(dir.File("tokenizer_config.json"), "{\"model_max_length\": 1024}");
        var gpt2 = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.Equal(300, gpt2.DocumentPrefix);
        Assert.Contains("<|endoftext|>", gpt2.DocumentPrefixSource, StringComparison.Ordinal);

        var pieces = new List<(string, float)> { ("<unk>", 0), ("<s>", 0), ("</s>", 0), ("a", -1), (" ", -1) };
        var sp = Microsoft.ML.Tokenizers.SentencePieceTokenizer.Create(pieces, 0, addBeginningOfSentence: true, addEndOfSentence: false, default,
            addDummyPrefix: false, escapeWhiteSpaces: false, treatWhitespaceAsSuffix: false, byteFallback: false);
        var tokenizer = DocumentPrefixes.Find(new TextTokenizer(sp, "sp", 5, false), null);
        Assert.Equal(1, tokenizer.DocumentPrefix);

        // Its encodings begin with that BOS already: joined with it as the prefix, no document gets a second one.
        var documents = new[] { "a a", "a" }.Select(t => tokenizer.Encode(t, t)).ToList();
        Assert.All(documents, d => Assert.Equal(1, d.Ids[0]));
        var joined = TokenizedText.Join(documents, tokenizer.DocumentPrefix, "both");
        Assert.Equal(documents.SelectMany(d => d.Ids), joined.Ids);
        Assert.Equal([0L, documents[0].Ids.Length], joined.DocumentStarts);
        Assert.Equal(joined.Ids.Length - 2, joined.TextTokens);

        // Documents without it get it put before them.
        var plain = TokenizedText.Join([new TokenizedText([3, 4], null, "x", "ids"), new TokenizedText([1, 3], null, "y", "ids")], 1, "mixed");
        Assert.Equal([1, 3, 4, 1, 3], plain.Ids);
        Assert.Equal([0L, 3], plain.DocumentStarts);
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

        CliRunner.Fails(ExitCode.Usage, ["--protocol rolling puts the tokenizer's BOS or EOS before each document (--prefix-token auto, its default), but", "vocab.json has none: no tokenizer_config.json"],
            Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "rolling", "--context", "16"));
        CliRunner.Fails(ExitCode.Usage, ["--prefix-token '<nope>' is not one token"], Run("window.onnx", "--text", ModelFiles.SampleText, "--prefix-token", "<nope>", "--context", "16"));
        CliRunner.Fails(ExitCode.Usage, ["--stride applies to --protocol sliding"], Run("window.onnx", ["--text", ModelFiles.SampleText, .. rolling, "--stride", "8"]));
        CliRunner.Fails(ExitCode.Usage, ["--protocol must be sliding, rolling or chunks"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "lm-eval"));
        CliRunner.Fails(ExitCode.Usage, ["--protocol chunks needs --context >= 4"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "chunks", "--context", "3"));
        CliRunner.Fails(ExitCode.Usage, ["--stride applies to --protocol sliding; chunks windows"], Run("window.onnx", "--text", ModelFiles.SampleText, "--protocol", "chunks", "--stride", "3"));
        CliRunner.Fails(ExitCode.Usage, ["(--prefix-token auto, its default), but --tokens have no tokenizer to find it in"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--protocol", "rolling", "--context", "16", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--prefix-token -1 is negative"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--prefix-token", "-1", "--context", "16", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["the prefix token 300 (--prefix-token) is not in the vocabulary of", "(0 to 299)"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--prefix-token", "300", "--context", "16", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--text-field names the field of each line of a .jsonl --text"], Run("window.onnx", ["--text", ModelFiles.SampleText, "--text-field", "page", .. rolling]));
        File.WriteAllText(dir.File("surrogate.ndjson"), "{\"text\": \"a b\"}\n{\"text\": \"abc \\ud800 def\"}\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("surrogate.ndjson")}: line 2: \"text\" is not text"], Run("window.onnx", ["--text", dir.File("surrogate.ndjson"), .. rolling]));

        // Totals of the whole text with ids of several documents and no prefix token: each document's first goes unscored.
        string again = dir.File("sample_tokens_again.npy");
        File.Copy(ModelFiles.Path("sample_tokens.npy"), again);
        CliRunner.Fails(ExitCode.Usage, ["--total-bytes counts the whole text, but 2 of its tokens go unscored (each document's first", "give a --prefix-token to predict it"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), again, "--context", "16", "--total-bytes", "100", "--device", "cpu");
        var ids = CliRunner.Json("perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), again,
            "--protocol", "rolling", "--prefix-token", "0", "--context", "16", "--total-bytes", "100", "--device", "cpu", "--json");
        Assert.Equal(2 * ModelFiles.Golden["tokens"]!.GetValue<long>(), (long)ids["tokens"]!);
    }
}
