using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// SentencePiece-style BPE (Llama 2, Mistral, Gemma) from a <c>.model</c> and from a tokenizer.json:
/// against SentencePiece's own ids and tokenizers.js's (make_sentencepiece.py, make_tokenizer_templates.mjs),
/// runs of one character included, which Microsoft.ML.Tokenizers merges the other way.
/// </summary>
public sealed class SentencePieceBpeTests
{
    private static string Model => ModelFiles.Path("sp_bpe.model");

    private static string Json => ModelFiles.Path("sp_bpe_tokenizer.json");

    private static IEnumerable<(string Text, int[] Ids)> Golden(JsonNode texts) =>
        texts.AsArray().Select(t => (t!["text"]!.GetValue<string>(), t["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray()));

    private static JsonObject TokenizersJs => (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("tokenizer_templates.json")))!["sentencepiece_bpe"]!;

    private static void Rename(JsonObject o, string from, string to)
    {
        var value = o[from]!.DeepClone();
        o.Remove(from);
        o[to] = value;
    }

    [Fact]
    public void A_model_file_gives_sentencepieces_ids_and_counts_every_byte()
    {
        var tokenizer = TokenizerCatalog.Load(Model);
        Assert.IsType<SentencePieceBpe>(tokenizer.Tokenizer);
        Assert.Equal(1, tokenizer.BeginsEachText);
        Assert.Equal(8, SentencePieceGolden.AssertGives(tokenizer, SentencePieceGolden.Texts("texts"), [1]));
    }

    /// <summary>
    /// A model trained with SentencePiece's default remove_extra_whitespaces (spaces at the ends dropped,
    /// runs inside made one) gives SentencePiece's ids, and its tokens count every byte of the text as given
    /// (a dropped space goes with the token after it).
    /// Microsoft.ML.Tokenizers' LlamaTokenizer read such a model before, with other ids for runs of one
    /// character and a '▁' for a text of spaces.
    /// </summary>
    [Fact]
    public void A_model_that_removes_extra_spaces_gives_sentencepieces_ids()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.Path("sp_bpe_spaces.model"));
        Assert.Equal("identity, remove_extra_whitespaces (SentencePiece)", tokenizer.Normalization);
        Assert.Equal(8, SentencePieceGolden.AssertGives(tokenizer, SentencePieceGolden.Texts("remove_extra_whitespaces"), [1]));
    }

    /// <summary>
    /// A BPE model with SentencePiece's default normalizer (the nmt_nfkc character map, extra spaces removed)
    /// and no byte fallback, as Marian's (opus-mt) are, gives SentencePiece's ids: fullwidth letters, tabs
    /// and ligatures mapped by the map's longest keys, runs of characters outside it one unknown piece;
    /// its tokens count every byte of the text as given.
    /// </summary>
    [Fact]
    public void A_model_with_a_character_map_gives_sentencepieces_ids()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.Path("sp_bpe_nfkc.model"));
        Assert.Equal("nmt_nfkc, remove_extra_whitespaces (SentencePiece)", tokenizer.Normalization);
        Assert.Equal(15, SentencePieceGolden.AssertGives(tokenizer, SentencePieceGolden.Texts("bpe_nfkc"), [1]));
    }

    /// <summary>A SentencePiece model it does not encode as SentencePiece does (a word model; a BPE one with spaces as suffixes) is refused, naming the file and what it is.</summary>
    [Fact]
    public void Other_sentencepiece_models_are_refused_naming_what_they_are()
    {
        using var dir = new TempDir();
        // sp_bpe.model with a second trainer spec (field 2) whose model_type (field 3) is WORD (3): the last one read wins, as protobuf merges messages.
        string word = dir.File("word.model");
        File.WriteAllBytes(word, [.. File.ReadAllBytes(Model), 0x12, 0x02, 0x18, 0x03]);
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(word));
        Assert.StartsWith(word, e.Message, StringComparison.Ordinal);
        Assert.Contains("word model", e.Message, StringComparison.Ordinal);
        CliRunner.Fails(ExitCode.BadData, ["word.model", "word model"], "tokenize", "--tokenizer", word, "--text", ModelFiles.SampleText);

        // sp_bpe.model with treat_whitespace_as_suffix (trainer field 24) on: '▁' after words, which SentencePieceBpe does not put.
        string suffix = dir.File("suffix.model");
        File.WriteAllBytes(suffix, [.. File.ReadAllBytes(Model), 0x12, 0x03, 0xC0, 0x01, 0x01]);
        e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(suffix));
        Assert.Contains("treat_whitespace_as_suffix", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Why <see cref="SentencePieceBpe"/> exists; when this fails, Microsoft.ML.Tokenizers merges runs as SentencePiece does and may replace it.</summary>
    [Fact]
    public void Microsoft_ml_tokenizers_merges_runs_of_one_character_the_other_way()
    {
        using var stream = File.OpenRead(Model);
        var library = Microsoft.ML.Tokenizers.LlamaTokenizer.Create(stream, addBeginOfSentence: false);
        var golden = SentencePieceGolden.Texts("texts").Single(g => g.Text.StartsWith("x   y", StringComparison.Ordinal));
        var ours = TokenizerCatalog.Load(Model).Encode(golden.Text, "runs").Ids[1..];
        Assert.Equal(golden.Ids, ours);
        Assert.NotEqual(golden.Ids, library.EncodeToIds(golden.Text).ToArray());
    }

    /// <summary>As converted (a Prepend normalizer) and with a Metaspace pre-tokenizer instead; added tokens in the text split it into runs, each with its own dummy prefix or only the first.</summary>
    [Theory]
    [InlineData("prepend")]
    [InlineData("metaspace_first")]
    [InlineData("metaspace_always")]
    public void A_tokenizer_json_gives_the_ids_of_hugging_faces_tokenizers(string variant)
    {
        var golden = TokenizersJs[variant]!;
        var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
        json["normalizer"] = golden["normalizer"]?.DeepClone();
        json["pre_tokenizer"] = golden["pre_tokenizer"]?.DeepClone();
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.Equal(1, tokenizer.BeginsEachText);
        foreach (var (text, ids) in Golden(golden["texts"]!))
        {
            var encoded = tokenizer.Encode(text, "text");
            Assert.Equal(ids, encoded.Ids);
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
        }

        // The converted file and the model it came from agree wherever SentencePiece reads the text as
        // the file does (not an added token's text: SentencePiece reads "<s>" as characters).
        if (variant == "prepend")
        {
            var model = TokenizerCatalog.Load(Model);
            Assert.All(Golden(golden["texts"]!), g => Assert.Equal(g.Ids, model.Encode(g.Text, "text").Ids));
        }
    }

    /// <summary>
    /// A Metaspace pre-tokenizer that splits (its "split" true, or absent as in older Mistral files:
    /// Hugging Face's default) merges each word, from one '▁' to the next, on its own: the ids of each
    /// word encoded alone, and "▁▁" never made of two spaces.
    /// </summary>
    [Fact]
    public void A_splitting_metaspace_merges_each_word_on_its_own()
    {
        using var dir = new TempDir();
        TextTokenizer With(string preTokenizer)
        {
            var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
            json["normalizer"] = null;
            json["pre_tokenizer"] = JsonNode.Parse(preTokenizer);
            string path = dir.File($"{Guid.NewGuid():N}.json");
            File.WriteAllText(path, json.ToJsonString());
            return TokenizerCatalog.Load(path);
        }

        var split = With("""{"type": "Metaspace", "replacement": "▁", "add_prefix_space": true, "prepend_scheme": "first"}""");
        var whole = With("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}""");
        var never = With("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false}""");
        foreach (string text in new[] { "x  y", "The model reads a window   of tokens\nand    predicts", File.ReadAllText(ModelFiles.SampleText) })
        {
            var words = System.Text.RegularExpressions.Regex.Split("\u2581" + text.Replace(' ', '\u2581'), "(?=\u2581)").Where(w => w.Length > 0);
            int[] expected = [1, .. words.SelectMany(w => never.Encode(w.Replace('\u2581', ' '), "word").Ids[1..])];
            Assert.Equal(expected, split.Encode(text, "text").Ids);
        }

        int spaces = split.Tokenizer is SentencePieceBpe bpe ? bpe.Vocabulary["\u2581\u2581"] : -1;
        Assert.DoesNotContain(spaces, split.Encode("x  y", "t").Ids);
        Assert.Contains(spaces, whole.Encode("x  y", "t").Ids);
    }

    /// <summary>A character whose byte pieces are not all in the vocabulary (Gemma's has no &lt;0x09&gt;) is the unknown piece, as Hugging Face's BPE falls back.</summary>
    [Fact]
    public void A_character_whose_byte_pieces_are_missing_is_unknown()
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
        int byteA = json["model"]!["vocab"]!["<0x41>"]!.GetValue<int>(), unk = json["model"]!["vocab"]!["<unk>"]!.GetValue<int>();
        Rename(json["model"]!["vocab"]!.AsObject(), "<0x41>", "<0xZZ>");
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        const string text = "A model of A";
        var original = TokenizerCatalog.Load(Json).Encode(text, "t").Ids;
        Assert.Contains(byteA, original);
        Assert.Equal(original.Select(id => id == byteA ? unk : id), TokenizerCatalog.Load(dir.File("tokenizer.json")).Encode(text, "t").Ids);
    }

    [Fact]
    public void A_tokenizer_json_it_cannot_read_as_sentencepiece_is_refused_naming_the_file()
    {
        using var dir = new TempDir();
        var bad = new (Action<JsonObject> Change, string Fragment)[]
        {
            (j => j["normalizer"]!["normalizers"]!.AsArray().Add(JsonNode.Parse("""{"type": "NFKC"}""")), "NFKC normalizer after its Replace(' ', '▁')"),
            (j => j["pre_tokenizer"] = JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "sometimes"}"""), "prepend_scheme 'sometimes'"),
            (j => j["pre_tokenizer"] = JsonNode.Parse("""{"type": "Whitespace"}"""), "Whitespace pre-tokenizer"),
            (j => j["model"]!["continuing_subword_prefix"] = "##", "continuing_subword_prefix"),
            (j => j["model"]!["unk_token"] = "<nope>", "unk_token, '<nope>', is not in its vocabulary"),
            (j => j["model"]!["vocab"]!["zz"] = 3, "the id 3: a SentencePiece vocabulary gives each id one piece"),
            (j => j["model"]!["merges"]!.AsArray().Add("nospace"), "that is not two pieces"),
            (j => j["model"]!["merges"]!.AsArray().Add(JsonNode.Parse("[null, \"a\"]")), "that is not two pieces"),
            (j => j["added_tokens"]!.AsArray().Add(JsonNode.Parse("{\"id\": 5}")), "without a content string and an id"),
            (j => j["model"]!["vocab"]!["<s>"] = "one", "not a vocabulary index"),
            (j => j["model"]!["dropout"] = 0.1, "BPE dropout of 0.1"),
        };
        foreach (var (change, fragment) in bad)
        {
            var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
            change(json);
            File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
            var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
            Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A vocabulary whose ids leave some out (Yi's leaves 8 of 64,000) is read, those ids never given; one
    /// without an unk_token is read, and a text holding a character it cannot encode is refused naming it
    /// (Hugging Face's BPE drops the character and merges across it); a key twice in a JSON object is named.
    /// </summary>
    [Fact]
    public void Vocabularies_with_gaps_or_without_an_unk_token_are_read_as_hugging_face_reads_them()
    {
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
        int count = json["model"]!["vocab"]!.AsObject().Count;
        json["model"]!["vocab"]!["zq▁zq"] = count + 5;
        File.WriteAllText(path, json.ToJsonString());
        var gapped = TokenizerCatalog.Load(path);
        Assert.Equal(count + 6, gapped.VocabularySize);
        Assert.Equal(TokenizerCatalog.Load(Json).Encode("A model of language", "t").Ids, gapped.Encode("A model of language", "t").Ids);

        json["model"]!.AsObject().Remove("unk_token");
        json["model"]!["byte_fallback"] = false;
        File.WriteAllText(path, json.ToJsonString());
        var noUnknown = TokenizerCatalog.Load(path);
        Assert.Equal(TokenizerCatalog.Load(Json).Encode("model of language", "t").Ids, noUnknown.Encode("model of language", "t").Ids);
        var e = Assert.Throws<InvalidFileException>(() => noUnknown.Encode("a model ☃ here", "snow.txt"));
        Assert.StartsWith("snow.txt: holds U+2603 (first at char 8)", e.Message, StringComparison.Ordinal);
        Assert.Contains("no unk_token", e.Message, StringComparison.Ordinal);

        string vocab = "\"vocab\": {";
        File.WriteAllText(path, File.ReadAllText(Json).Replace(vocab, vocab + "\"<unk>\": 7, ", StringComparison.Ordinal));
        e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(path));
        Assert.Contains("holds a key twice", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Without byte fallback, adjacent unknown characters are one unknown token, but not across an added token (here the literal "&lt;unk&gt;").</summary>
    [Fact]
    public void Unknown_characters_fuse_within_a_run_only()
    {
        var tokenizer = new SentencePieceBpe(["<unk>", "\u2581", "a"], SentencePieceBpe.Merges.Ranked([]), new Dictionary<string, int> { ["<unk>"] = 0 },
            unknownId: 0, byteFallback: false, fuseUnknown: true, escapeSpaces: true, DummyPrefix.FirstUnlessSpace);
        Assert.Equal([1, 0, 2], tokenizer.EncodeToIds("xya"));
        Assert.Equal([1, 0, 0, 0], tokenizer.EncodeToIds("x<unk>\u0378"));
    }

    /// <summary>An added token whose flags change how Hugging Face finds it: a text that holds it is refused, naming both; one that does not is encoded.</summary>
    [Fact]
    public void Added_tokens_it_cannot_split_as_hugging_face_does_are_refused_where_a_text_holds_them()
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
        json["added_tokens"]!.AsArray().Add(JsonNode.Parse("""{"id": 299, "content": "zz", "special": false, "normalized": true, "lstrip": false, "rstrip": false, "single_word": false}"""));
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.Equal(TokenizerCatalog.Load(Json).Encode("a b", "t").Ids, tokenizer.Encode("a b", "t").Ids);
        var e = Assert.Throws<InvalidFileException>(() => tokenizer.Encode("a zz b", "corpus.txt"));
        Assert.StartsWith("corpus.txt", e.Message, StringComparison.Ordinal);
        Assert.Contains("'zz'", e.Message, StringComparison.Ordinal);
        Assert.Contains("normalized", e.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("text.txt"), "Hello <|x|> world");
        foreach (string flag in new[] { "lstrip", "rstrip", "single_word" })
        {
            ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), $$"""[{"id": 300, "content": "<|x|>", "special": true, "{{flag}}": true}]""");
            var byteLevel = TokenizerCatalog.Load(dir.File("tokenizer.json"));
            Assert.Equal(TokenizerCatalog.Load(ModelFiles.VocabJson).Encode("a b", "t").Ids, byteLevel.Encode("a b", "t").Ids);
            CliRunner.Fails(ExitCode.BadData, [dir.File("text.txt"), "<|x|>", flag], "tokenize", "--tokenizer", dir.File("tokenizer.json"), "--text", dir.File("text.txt"));
        }
    }

    /// <summary>Scored as its ids are with that BOS as the prefix token, the text's bytes counted for bits per byte, from either file.</summary>
    [Fact]
    public void A_perplexity_run_over_it_counts_bytes_and_matches_its_ids()
    {
        using var dir = new TempDir();
        var ids = TokenizerCatalog.Load(Model).Encode(File.ReadAllText(ModelFiles.SampleText), "sample").Ids;
        NpyFormat.Write<long>(dir.File("ids.npy"), ids[1..].Select(i => (long)i).ToArray(), [ids.Length - 1]);
        string[] common = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--context", "16", "--device", "cpu", "--json"];
        var fromModel = CliRunner.Json([.. common, "--text", ModelFiles.SampleText, "--tokenizer", Model]);
        var fromJson = CliRunner.Json([.. common, "--text", ModelFiles.SampleText, "--tokenizer", Json]);
        var fromIds = CliRunner.Json([.. common, "--tokens", dir.File("ids.npy"), "--prefix-token", "1"]);
        Assert.Equal(1, (int)fromModel["prefix_token"]!);
        Assert.Equal(ids.Length - 1, (long)fromModel["tokens"]!);
        foreach (string key in new[] { "tokens", "mean_nll", "top1_accuracy" })
        {
            Assert.Equal(fromIds[key]!.ToJsonString(), fromModel[key]!.ToJsonString());
            Assert.Equal(fromIds[key]!.ToJsonString(), fromJson[key]!.ToJsonString());
        }

        double bits = CliRunner.Number(fromModel["bits_per_byte"]);
        double expected = CliRunner.Number(fromModel["mean_nll"]) * (long)fromModel["tokens"]! / Math.Log(2) / Encoding.UTF8.GetByteCount(File.ReadAllText(ModelFiles.SampleText));
        Assert.Equal(expected, bits, 1e-9);
    }
}
