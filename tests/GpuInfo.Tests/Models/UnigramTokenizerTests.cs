using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// <see cref="UnigramTokenizer"/> beyond its ids (HuggingFaceRustTests checks those against the Rust
/// library): the bytes each token stands for under a normalizer that changes the text, a perplexity
/// through one, and malformed files refused naming the file.
/// </summary>
public sealed class UnigramTokenizerTests
{
    private static string Nfkc => ModelFiles.Path("sp_unigram_nfkc_tokenizer.json");

    /// <summary>
    /// T5's normalizer (the character map, runs of spaces made one) changes these texts, yet each token's
    /// bytes are those of the text as given: a token gets the bytes up to the end of what it stands for,
    /// the two bytes of a tab the map made a space and the spaces Replace dropped with it, the three of a
    /// fullwidth letter with its letter.
    /// </summary>
    [Fact]
    public void Tokens_count_the_bytes_of_the_text_as_given_where_the_character_map_changes_it()
    {
        var tokenizer = TokenizerCatalog.Load(Nfkc);
        Assert.Equal("Precompiled, Replace(/ {2,}/)", tokenizer.Normalization);
        foreach (string text in new[] { "a\tb   c", "\uFF21\uFF42c model \uFB01ne", "x \u2460 y\r\n\r\nz", "the model reads a window of tokens" })
        {
            var encoded = tokenizer.Encode(text, "t.txt");
            Assert.NotNull(encoded.Bytes);
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
            Assert.All(encoded.Bytes, b => Assert.True(b >= 0));
            Assert.Equal(0, encoded.Bytes[^1]); // </s>
        }

        // "▁a" then "▁b" with the tab before it, then "▁c" with the spaces before it.
        var tab = tokenizer.Encode("a\tb   c", "t.txt");
        Assert.Equal(tab.Ids.Length - 1, tab.Bytes!.Count(b => b > 0));
    }

    /// <summary>Ids decode to the text they came from: pieces with '▁' as spaces less the prefix, byte-fallback pieces as their bytes (日本, 🤖).</summary>
    [Fact]
    public void Ids_decode_to_their_text()
    {
        var tokenizer = TokenizerCatalog.Load(Nfkc);
        foreach (string text in new[] { "The model reads a window of tokens.", "naive 日本 🤖 end" })
        {
            var ids = tokenizer.Encode(text, "t.txt").Ids;
            Assert.Equal(text, tokenizer.Tokenizer.Decode(ids[..^1]));
            Assert.Equal(text + "</s>", tokenizer.Tokenizer.Decode(ids));
        }
    }

    /// <summary>A perplexity through a Unigram tokenizer has bits per byte, the bytes of the text as given.</summary>
    [Fact]
    public void Perplexity_through_a_unigram_tokenizer_counts_the_texts_bytes()
    {
        using var dir = new TempDir();
        string text = dir.File("text.txt");
        File.WriteAllText(text, "The model reads a window of tokens.\tIts  surprise at the true token is the negative log-likelihood.\n");
        var result = CliRunner.Json("perplexity", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.Path("sp_unigram_tokenizer.json"),
            "--text", text, "--context", "16", "--stride", "8", "--device", "cpu", "--json");
        Assert.True(CliRunner.Number(result["bits_per_byte"]) > 0);
    }

    [Theory]
    [InlineData("""{"type": "Unigram", "vocab": [["<unk>", 0.0], ["a", -1.0]]}""", "without an unk_id")]
    [InlineData("""{"type": "Unigram", "unk_id": 5, "vocab": [["<unk>", 0.0], ["a", -1.0]]}""", "unk_id of 5, outside its 2 pieces")]
    [InlineData("""{"type": "Unigram", "unk_id": 0, "vocab": []}""", "empty vocabulary")]
    [InlineData("""{"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a"]]}""", "vocabulary entry 1")]
    [InlineData("""{"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", "x"]]}""", "vocabulary entry 1")]
    [InlineData("""{"type": "Unigram", "unk_id": 0}""", "without a vocab array")]
    public void Malformed_unigram_models_are_refused_naming_the_file(string model, string fragment)
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Nfkc))!.AsObject();
        json["model"] = JsonNode.Parse(model);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
        Assert.StartsWith(dir.File("tokenizer.json"), e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "Precompiled", "precompiled_charsmap": "not base64!"}""", "Precompiled normalizer")]
    [InlineData("""{"type": "Precompiled", "precompiled_charsmap": "AAAA"}""", "trie")]
    [InlineData("""{"type": "Precompiled", "precompiled_charsmap": "CAAAAP////8AAAAA"}""", "trie points at unit")]
    [InlineData("""{"type": "Replace", "pattern": {"Regex": "("}, "content": " "}""", "regex /(/")]
    [InlineData("""{"type": "Replace", "pattern": {"String": ""}, "content": " "}""", "neither a non-empty String nor a Regex")]
    [InlineData("""{"type": "ByteLevel"}""", "ByteLevel normalizer")]
    public void Normalizers_it_cannot_read_are_refused_naming_the_file(string normalizer, string fragment)
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Nfkc))!.AsObject();
        json["normalizer"] = JsonNode.Parse(normalizer);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        File.WriteAllText(dir.File("text.txt"), "a model");

        // A trie that points outside itself is found when it is read, in the first text.
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")).Encode("a model", "text.txt"));
        Assert.StartsWith(dir.File("tokenizer.json"), e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        CliRunner.Fails(ExitCode.BadData, ["tokenizer.json", fragment], "tokenize", "--tokenizer", dir.File("tokenizer.json"), "--text", dir.File("text.txt"));
    }

    [Theory]
    [InlineData("""{"type": "ByteLevel"}""", "ByteLevel pre-tokenizer")]
    [InlineData("""{"type": "Sequence", "pretokenizers": [{"type": "Metaspace"}, {"type": "Digits"}, {"type": "Metaspace"}]}""", "two Metaspace pre-tokenizers")]
    [InlineData("""{"type": "Sequence", "pretokenizers": [{"type": "Metaspace"}, {"type": "FixedLength", "length": 5}]}""", "FixedLength pre-tokenizer")]
    [InlineData("""{"type": "Metaspace", "replacement": "ab"}""", "not one char")]
    [InlineData("""{"type": "Metaspace", "prepend_scheme": "sometimes"}""", "prepend_scheme 'sometimes'")]
    public void Pre_tokenizers_it_cannot_follow_are_refused_naming_the_file(string preTokenizer, string fragment)
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Nfkc))!.AsObject();
        json["pre_tokenizer"] = JsonNode.Parse(preTokenizer);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
        Assert.StartsWith(dir.File("tokenizer.json"), e.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A model written without its "type" (older files: onnxruntime-extensions' t5-small) is read as Hugging Face reads it, a vocabulary of [piece, score] pairs as a Unigram.</summary>
    [Fact]
    public void A_model_without_its_type_is_read_by_its_fields()
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Nfkc))!.AsObject();
        json["model"]!.AsObject().Remove("type");
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var typeless = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.IsType<UnigramTokenizer>(typeless.Tokenizer);
        string text = "\uFF21\uFF42c model \uFB01ne \u2603";
        Assert.Equal(TokenizerCatalog.Load(Nfkc).Encode(text, "t").Ids, typeless.Encode(text, "t").Ids);
    }
}
