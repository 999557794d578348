using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// The special tokens a tokenizer.json's post_processor puts around a text (Llama 3's BOS), against
/// Hugging Face's tokenizers.js (make_tokenizer_templates.mjs, tokenizer_templates.json), and what a
/// model run makes of them: the BOS each text begins with is its documents' prefix token.
/// </summary>
public sealed class TokenizerTemplateTests
{
    private static JsonArray Cases => (JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["cases"]!;

    public static TheoryData<string> CaseNames => [.. Cases.Select(c => c!["name"]!.GetValue<string>())];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_post_processor_gives_the_ids_of_hugging_faces_tokenizers(string name)
    {
        var c = Cases.Single(c => c!["name"]!.GetValue<string>() == name)!;
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), c["added_tokens"]!.ToJsonString(), c["post_processor"]!.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        var plain = TokenizerCatalog.Load(ModelFiles.VocabJson);
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var expected = t["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(expected, encoded.Ids);

            // The added tokens stand for no text: the bytes and words are those of the text alone.
            var alone = plain.Encode(text, name);
            int before = tokenizer.AddedBefore.Count;
            Assert.Equal(alone.Ids, encoded.Ids[before..(before + alone.Ids.Length)]);
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
            Assert.Equal(alone.Words!.Sum(), encoded.Words!.Sum());
            Assert.All(encoded.Bytes![..before].Concat(encoded.Bytes[(before + alone.Ids.Length)..]), b => Assert.Equal(0, b));
        }

        int? expectedStart = name switch { "llama3" or "bos_and_eos" or "roberta" => 300, _ => null };
        Assert.Equal(expectedStart, tokenizer.BeginsEachText);
        var added = c["added_tokens"]!.AsArray().Select(t => t!["id"]!.GetValue<int>());
        Assert.Equal(1 + added.Concat(tokenizer.AddedBefore).Concat(tokenizer.AddedAfter).Append(ModelFiles.Vocab - 1).Max(), tokenizer.VocabularySize);
    }

    public static TheoryData<string> PreTokenizerNames =>
        [.. ((JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["pre_tokenizers"]!).Select(c => c!["name"]!.GetValue<string>())];

    /// <summary>DeepSeek V3's three Splits, GPT-4o's inverted one, a Removed one, GPT-2's and Digits, as tokenizers.js splits them.</summary>
    [Theory]
    [MemberData(nameof(PreTokenizerNames))]
    public void Each_pre_tokenizer_gives_the_ids_of_hugging_faces_tokenizers(string name)
    {
        var c = ((JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["pre_tokenizers"]!).Single(c => c!["name"]!.GetValue<string>() == name)!;
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), preTokenizer: c["pre_tokenizer"]!.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), tokenizer.Encode(text, name).Ids);
        }
    }

    /// <summary>
    /// Pieces as Hugging Face's Split makes them: a regex reads code points (a Fraktur letter is
    /// \p{L}, an emoji \p{S}, where .NET's regex sees two surrogates), and each behavior joins a
    /// delimiter as its split.rs does (a delimiter after another stays on its own).
    /// </summary>
    [Theory]
    [InlineData("Isolated", false, "a|-|b|-|-|c")]
    [InlineData("Removed", false, "a|b|c")]
    [InlineData("MergedWithPrevious", false, "a-|b-|-|c")]
    [InlineData("MergedWithNext", false, "a|-b|-|-c")]
    [InlineData("Contiguous", false, "a|-|b|--|c")]
    [InlineData("Isolated", true, "a|-|b|-|-|c")]
    [InlineData("Removed", true, "-|-|-")]
    [InlineData("MergedWithPrevious", true, "a|-b|-|-c")]
    public void Split_behaviors_join_delimiters_as_hugging_face_does(string behavior, bool invert, string expected)
    {
        var pre = HuggingFacePreTokenizer.Read(JsonNode.Parse($$"""{"type": "Split", "pattern": {"String": "-"}, "behavior": "{{behavior}}", "invert": {{(invert ? "true" : "false")}}}"""), null, "t.json");
        const string text = "a-b--c";
        Assert.Equal(expected, string.Join("|", pre.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length))));
    }

    [Fact]
    public void A_split_regex_reads_characters_beyond_the_bmp_as_code_points()
    {
        var split = new JsonObject
        {
            ["type"] = "Split",
            ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" },
            ["behavior"] = "Isolated",
            ["invert"] = false,
        };
        var llama3 = HuggingFacePreTokenizer.Read(split, new Dictionary<string, int> { ["<|x|>"] = 9 }, "t.json");
        const string text = "a𝔘b 😀abc<|x|>𝟏𝟐𝟑𝟒";
        Assert.Equal(["a𝔘b", " 😀", "abc", "<|x|>", "𝟏𝟐𝟑", "𝟒"], llama3.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length)));
    }

    /// <summary>
    /// A long text is encoded in pieces cut after a line break, but only where the pre-tokenizer splits
    /// the same either way: GPT-2's regex reads "|\n\n`" as "|", "\n", "\n" and a text ending "|\n\n" as
    /// "|", "\n\n" (Claude's tokenizer gave one id fewer than tokenizers.js before the check). Every
    /// pre-tokenizer of the golden file, pieces of about 8 chars, against tokenizers.js's ids.
    /// </summary>
    [Theory]
    [MemberData(nameof(PreTokenizerNames))]
    public void Pieces_are_cut_only_where_the_pre_tokenizer_splits_the_same(string name)
    {
        var c = ((JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["pre_tokenizers"]!).Single(c => c!["name"]!.GetValue<string>() == name)!;
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), preTokenizer: c["pre_tokenizer"]!.ToJsonString());
        var whole = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.True(whole.SplitsAtLines);
        var pieces = new TextTokenizer(whole.Tokenizer, whole.Name, whole.VocabularySize, whole.SplitsAtLines) { PieceChars = 8 };
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), pieces.Encode(text, name).Ids);
        }

        const string lines = "| a |\n\n`eval` and\nb\n c\n\n\nd;\ne  \nf\r\ng\n😀\n";
        string many = string.Concat(Enumerable.Repeat(lines, 20));
        Assert.Equal(whole.Encode(many, name).Ids, pieces.Encode(many, name).Ids);
        Assert.Equal(whole.Encode(many, name).Bytes, pieces.Encode(many, name).Bytes);
    }

    public static TheoryData<string> NormalizerNames =>
        [.. ((JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["normalizers"]!).Select(c => c!["name"]!.GetValue<string>())];

    /// <summary>
    /// Each normalizer (NFC, NFD, NFKC, NFKD, Lowercase and a Sequence) gives tokenizers.js's ids on texts
    /// it changes: composing marks, Devanagari nukta, Hangul jamo, singletons, compatibility characters,
    /// U+0130, each byte of the text counted. The Unicode forms need ICU (<see cref="UnicodeForms"/>): without it the test is skipped.
    /// </summary>
    [Theory]
    [MemberData(nameof(NormalizerNames))]
    public void Each_normalizer_gives_the_ids_of_hugging_faces_tokenizers(string name)
    {
        var c = ((JsonArray)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["normalizers"]!).Single(c => c!["name"]!.GetValue<string>() == name)!;
        if (name != "lowercase" && !UnicodeForms.Available)
        {
            Assert.Skip($"needs a Unicode normalizer: {UnicodeForms.Source}");
        }

        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), normalizer: c["normalizer"]!.ToJsonString(), preTokenizer: """{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}""");
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoded.Ids);
            // Every byte is counted: a Unicode form keeps track too, putting each grapheme in the form on its own (until 2026-12-07 these texts counted none).
            Assert.True(encoded.Bytes is not null, $"{name}: no byte counts for '{text}'");
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes.Sum());
        }
    }

    /// <summary>
    /// Lowercase needs no ICU; a Unicode form leaves ASCII as it is. On a machine without ICU a text beyond
    /// ASCII is refused, naming it, where the form may change it (under NFC, Qwen's, only one that holds a
    /// character NFC may change or compose); other kinds are refused naming the file.
    /// </summary>
    [Fact]
    public void Normalizers_are_applied_or_refused()
    {
        using var dir = new TempDir();
        var plain = TokenizerCatalog.Load(ModelFiles.VocabJson);
        ModelFiles.WriteTokenizerJson(dir.File("lower.json"), normalizer: """{"type": "Sequence", "normalizers": [{"type": "Lowercase"}]}""");
        Assert.Equal(plain.Encode("the model reads", "t").Ids, TokenizerCatalog.Load(dir.File("lower.json")).Encode("The MODEL Reads", "t").Ids);
        Assert.Equal("i\u0307stanbul \u03C3\u03C3", HuggingFaceNormalizer.Lowercase("\u0130stanbul \u03A3\u03A3"));

        ModelFiles.WriteTokenizerJson(dir.File("nfkc.json"), normalizer: """{"type": "NFKC"}""");
        var nfkc = TokenizerCatalog.Load(dir.File("nfkc.json"));
        Assert.Equal(plain.Encode("The model reads", "t").Ids, nfkc.Encode("The model reads", "t").Ids);
        var nfkcNormalizer = (HuggingFaceNormalizer)nfkc.Tokenizer.Normalizer!;
        Assert.Null(nfkcNormalizer.Refuses("The model reads", canNormalize: false));
        Assert.Null(nfkcNormalizer.Refuses("\uFB01ne", canNormalize: true));
        Assert.Contains("NFKC", nfkcNormalizer.Refuses("\uFB01ne", canNormalize: false), StringComparison.Ordinal);
        if (UnicodeForms.Available)
        {
            Assert.Equal(plain.Encode("fine", "t").Ids, nfkc.Encode("\uFB01ne", "corpus.txt").Ids);
        }
        else
        {
            var e = Assert.Throws<InvalidFileException>(() => nfkc.Encode("\uFB01ne", "corpus.txt"));
            Assert.StartsWith("corpus.txt", e.Message, StringComparison.Ordinal);
            Assert.Contains("NFKC", e.Message, StringComparison.Ordinal);
        }

        // Without ICU, NFC (Qwen's) reads a text as it is unless it holds a character NFC may change or compose.
        ModelFiles.WriteTokenizerJson(dir.File("nfc.json"), normalizer: """{"type": "NFC"}""");
        var nfc = (HuggingFaceNormalizer)TokenizerCatalog.Load(dir.File("nfc.json")).Tokenizer.Normalizer!;
        foreach (string text in new[] { "café naïve 中文 日本語 Привет 😀 a𝔘b", "The model reads" })
        {
            Assert.Null(nfc.Refuses(text, canNormalize: false));
        }

        foreach (string text in new[] { "cafe\u0301", "\u212B ngstr\u00F6m", "\u0928\u092E\u0938\u094D\u0924\u0947", "\u1100\u1161" })
        {
            Assert.Contains("NFC normalizer", nfc.Refuses(text, canNormalize: false), StringComparison.Ordinal);
            Assert.Null(nfc.Refuses(text, canNormalize: true));
        }

        ModelFiles.WriteTokenizerJson(dir.File("bytes.json"), normalizer: """{"type": "ByteLevel"}""");
        var refused = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("bytes.json")));
        Assert.Contains("ByteLevel normalizer", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Post_processors_it_cannot_follow_are_refused_naming_the_file()
    {
        using var dir = new TempDir();
        const string special = """{"<s>": {"id": "<s>", "ids": [10], "tokens": ["<s>"]}}""";
        var bad = new (string PostProcessor, string Fragment)[]
        {
            ("""{"type": "Weird"}""", "Weird post_processor"),
            ("""{"add_prefix_space": true}""", "no \"type\""),
            ($$$"""{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}], "special_tokens": {{{special}}}}""", "no sequence"),
            ($$$"""{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {{{special}}}}""", "two sequences"),
            ("""{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<t>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}""", "'<t>' is not in its special_tokens"),
            ("""{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"ids": [-1]}}}""", "not a vocabulary index"),
            ("""{"type": "TemplateProcessing", "single": "<s> $A"}""", "no \"single\" template"),
            ("""{"type": "RobertaProcessing", "cls": "<s>", "sep": ["</s>", 2]}""", "cls is not a [token, id] pair"),
            ("""{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "Weird"}]}""", "Weird post_processor"),
        };
        foreach (var (processor, fragment) in bad)
        {
            ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), postProcessor: processor);
            var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
            Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        foreach (var (pre, fragment) in new[]
        {
            ("""{"type": "Sequence", "pretokenizers": [{"type": "FixedLength", "length": 4}, {"type": "ByteLevel"}]}""", "FixedLength pre-tokenizer"),
            ("""{"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "ByteLevel", "add_prefix_space": true}]}""", "adds a prefix space after other steps"),
            ("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x"}, "behavior": "Sideways"}, {"type": "ByteLevel"}]}""", "behavior 'Sideways'"),
            ("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {}, "behavior": "Isolated"}, {"type": "ByteLevel"}]}""", "without a Regex or String pattern"),
        })
        {
            ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), preTokenizer: pre);
            var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), postProcessor: """{"type": "Weird"}""");
        CliRunner.Fails(ExitCode.BadData, ["tokenizer.json", "Weird post_processor"],
            "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", dir.File("tokenizer.json"), "--text", ModelFiles.SampleText, "--device", "cpu");
    }

    /// <summary>
    /// A tokenizer that begins each text with a BOS (here token 10, inside the test models' vocabulary)
    /// gives the run of its ids as given with that prefix token: the Hugging Face guide's windows over
    /// tokenizer(text), and llama.cpp's chunks with that BOS in place of each chunk's first token.
    /// </summary>
    [Theory]
    [InlineData("sliding")]
    [InlineData("chunks")]
    [InlineData("rolling")]
    public void A_bos_the_tokenizer_adds_is_each_documents_prefix_token(string protocol)
    {
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), postProcessor:
            """{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [10], "tokens": ["<s>"]}}}]}""");
        var ids = ModelFiles.Sample().Ids;
        NpyFormat.Write<long>(dir.File("ids.npy"), ids.Select(i => (long)i).ToArray(), [ids.Length]);
        string[] common = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--context", "16", "--protocol", protocol, "--device", "cpu", "--json"];
        string[] prefix = protocol == "rolling" ? ["--prefix-token", "10"] : [];
        var withBos = CliRunner.Json([.. common, "--text", ModelFiles.SampleText, "--tokenizer", dir.File("tokenizer.json"), .. prefix]);
        var given = CliRunner.Json([.. common, "--tokens", dir.File("ids.npy"), "--prefix-token", "10"]);
        Assert.Equal(10, (int)withBos["prefix_token"]!);
        foreach (string key in new[] { "tokens", "unscored", "mean_nll", "top1_accuracy" })
        {
            Assert.Equal(given[key]!.ToJsonString(), withBos[key]!.ToJsonString());
        }

        if (protocol == "sliding")
        {
            Assert.Equal(ids.Length, (long)withBos["tokens"]!); // the text's first token is scored, from the BOS
            var without = CliRunner.Json([.. common, "--text", ModelFiles.SampleText, "--tokenizer", ModelFiles.VocabJson]);
            Assert.Equal(ids.Length - 1, (long)without["tokens"]!);
            Assert.Null(without["prefix_token"]);
        }
    }
}
