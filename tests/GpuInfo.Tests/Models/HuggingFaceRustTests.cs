using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Formats;
using GpuInfo.Models;
using Microsoft.ML.Tokenizers;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Against Hugging Face's tokenizers library itself (the Rust crate, 0.22.2: make_rust_tokenizers.mjs,
/// rust_tokenizers.json), where its JavaScript port lacks a feature or differs: the pieces every Split
/// behavior, invert, Digits (every numeric char, not only ASCII), Punctuation, WhitespaceSplit, ByteLevel's
/// regex and the steps after it (Falcon's, on the bytes' stand-ins) make; the text
/// each normalizer makes (Lowercase per code point); the ids of a SentencePiece-style BPE under each
/// Metaspace scheme, splitting or not; SentencePiece's character map and the other normalizers Unigram
/// models use, and BERT's; and the ids of Unigram models (<see cref="UnigramTokenizer"/>) and WordPiece
/// ones (<see cref="HuggingFaceWordPieceTokenizer"/>).
/// </summary>
public sealed class HuggingFaceRustTests
{
    private static JsonNode Golden(string section) => JsonNode.Parse(File.ReadAllText(ModelFiles.Path("rust_tokenizers.json")))![section]!;

    private static JsonNode Case(string section, string name) => Golden(section).AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!;

    private static TheoryData<string> Names(string section) => [.. Golden(section).AsArray().Select(c => c!["name"]!.GetValue<string>())];

    public static TheoryData<string> PreTokenizerNames => Names("pre_tokenizers");

    public static TheoryData<string> NormalizerNames => Names("normalizers");

    public static TheoryData<string> MetaspaceNames => Names("sentencepiece_bpe");

    public static TheoryData<string> UnigramNames => Names("unigram");

    /// <summary>
    /// The pieces of each text, or, where a step after ByteLevel splits a character's UTF-8 bytes apart
    /// (Falcon's Digits on "²", whose bytes stand as "Â²": the Rust library's pieces then overlap in
    /// characters), <see cref="SplitInsideCharacterException"/>: a tokenizer with such steps encodes the pieces' bytes (<see cref="PieceBpeTokenizer"/>).
    /// </summary>
    [Theory]
    [MemberData(nameof(PreTokenizerNames))]
    public void Each_pre_tokenizer_cuts_the_pieces_of_the_rust_library(string name)
    {
        var c = Case("pre_tokenizers", name);
        var pre = HuggingFacePreTokenizer.Read(c["pre_tokenizer"], null, "tokenizer.json");
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var pieces = t["pieces"]!.AsArray().Select(p => (Start: p![0]!.GetValue<int>(), End: p[1]!.GetValue<int>())).ToList();
            if (pieces.Zip(pieces.Skip(1)).Any(p => p.Second.Start < p.First.End))
            {
                Assert.Throws<SplitInsideCharacterException>(() => pre.PreTokenize(text));
                continue;
            }

            Assert.Equal(pieces.Select(p => text[p.Start..p.End]), pre.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length)));
        }
    }

    [Theory]
    [MemberData(nameof(NormalizerNames))]
    public void Each_normalizer_makes_the_text_of_the_rust_library(string name)
    {
        if (name != "lowercase" && !UnicodeForms.Available)
        {
            Assert.Skip($"needs a Unicode normalizer: {UnicodeForms.Source}");
        }

        var c = Case("normalizers", name);
        var normalizer = HuggingFaceNormalizer.Read(c["normalizer"], "tokenizer.json")!;
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>(), expected = t["normalized"]!.GetValue<string>();
            Assert.Equal(expected, normalizer.Normalize(text));
            AssertAligned(normalizer.Apply(text, track: true), text, expected, name);
        }
    }

    /// <summary>
    /// The normalized text, with where each of its chars comes from: spans that never decrease, inside the text,
    /// covering every char a step kept (a Unicode form too: each grapheme is put in the form on its own).
    /// </summary>
    private static void AssertAligned(AlignedText aligned, string text, string expected, string name)
    {
        Assert.Equal(expected, aligned.Text);
        Assert.True(aligned.Aligned, $"{name} lost track of '{text}'");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.InRange(aligned.Starts![i], i == 0 ? 0 : aligned.Starts[i - 1], aligned.Ends![i]);
            Assert.InRange(aligned.Ends[i], i == 0 ? 0 : aligned.Ends[i - 1], text.Length);
        }
    }

    [Theory]
    [MemberData(nameof(MetaspaceNames))]
    public void Each_metaspace_scheme_gives_the_ids_of_the_rust_library(string name)
    {
        var c = Case("sentencepiece_bpe", name);
        var json = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("sp_bpe_tokenizer.json")))!.AsObject();
        json["normalizer"] = WithCharsmap(c["normalizer"]);
        json["pre_tokenizer"] = c["pre_tokenizer"]!.DeepClone();
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoded.Ids);
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
        }
    }

    public static TheoryData<string> BpeModelNames => Names("bpe_models");

    /// <summary>
    /// A byte-level BPE with an unk_token gives it for each byte its vocabulary lacks (one for a run, under
    /// fuse_unk), where the bytes were dropped (three real files, a tenth of their ids); a CLIP-like model with an
    /// end_of_word_suffix ("&lt;/w&gt;") merges each word's last symbol with it, where the suffix was ignored; a
    /// ByteLevel that adds a prefix space puts one before each run between added tokens, where it was refused;
    /// a character-level BPE (no ByteLevel step: Whitespace, WhitespaceSplit or no pre-tokenizer) merges
    /// characters, where it was refused (ten real files, custom-trained).
    /// Every byte is still counted: an unknown token by its offsets, a suffixed piece without its suffix, the
    /// prefix space as none.
    /// </summary>
    [Theory]
    [MemberData(nameof(BpeModelNames))]
    public void Each_bpe_model_gives_the_ids_of_the_rust_library(string name)
    {
        var c = Case("bpe_models", name);
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, new JsonObject
        {
            ["model"] = c["model"]!.DeepClone(),
            ["pre_tokenizer"] = c["pre_tokenizer"]?.DeepClone(),
            ["normalizer"] = c["normalizer"]?.DeepClone(),
            ["added_tokens"] = c["added_tokens"]!.DeepClone(),
        }.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(path);
        // Its added tokens are found by name (a document prefix such as Falcon's <|endoftext|> is looked up so).
        foreach (var added in c["added_tokens"]!.AsArray())
        {
            Assert.Equal(added!["id"]!.GetValue<int>(), TokenizerCatalog.SpecialTokens(tokenizer.Tokenizer)![added["content"]!.GetValue<string>()]);
        }

        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoded.Ids);
            Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
            if (t["decoded"] is { } decoded)
            {
                Assert.Equal(decoded.GetValue<string>(), tokenizer.Tokenizer.Decode(encoded.Ids));
            }
        }
    }

    public static TheoryData<string> WordLevelNames => Names("word_level");

    /// <summary>A WordLevel model gives each word the pre-tokenizer cuts its id, else the unk_token's, as the Rust library does (it was refused); every byte counted by the words' offsets.</summary>
    [Theory]
    [MemberData(nameof(WordLevelNames))]
    public void Each_word_level_model_gives_the_ids_of_the_rust_library(string name)
    {
        var c = Case("word_level", name);
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, new JsonObject
        {
            ["model"] = c["model"]!.DeepClone(),
            ["pre_tokenizer"] = c["pre_tokenizer"]!.DeepClone(),
            ["added_tokens"] = c["added_tokens"]!.DeepClone(),
        }.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(path);
        Assert.IsType<WordLevelTokenizer>(tokenizer.Tokenizer);
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoded.Ids);
            Assert.True(encoded.Ids.Length == 0 || Encoding.UTF8.GetByteCount(text) == encoded.Bytes!.Sum());
        }
    }

    public static TheoryData<string> WordPieceNames => [.. Names("word_piece").Where(n => n != "base")];

    /// <summary>
    /// A WordPiece model gives the Rust library's ids (it was refused): under BERT's normalizer uncased (accents
    /// stripped), cased, stripping accents alone and with none of its steps, and its pre-tokenizer; under
    /// Punctuation alone (words with spaces in them) and CharDelimiterSplit; with a short max_input_chars_per_word
    /// (60 emoji are 60 code points, not 120 chars), another subword prefix, BERT's special tokens found before the
    /// text is lowercased ("[MASK]" is one, "[mask]" is not) and added tokens found in the normalized text by their
    /// normalized content. A word the model needs the unk_token for, where its vocabulary lacks it, is refused
    /// as the Rust library fails on it. Each text decodes as the library decodes its ids, and each token's bytes
    /// of the text as given sum to its UTF-8 length.
    /// </summary>
    [Theory]
    [MemberData(nameof(WordPieceNames))]
    public void Each_word_piece_model_gives_the_ids_of_the_rust_library(string name)
    {
        if (!UnicodeForms.Available)
        {
            Assert.Skip($"BERT's normalizer strips accents after NFD: {UnicodeForms.Source}");
        }

        var c = Case("word_piece", name);
        var json = Case("word_piece", "base")["tokenizer"]!.DeepClone().AsObject();
        foreach (var (key, value) in c["parts"]!.AsObject())
        {
            json[key] = value?.DeepClone();
        }

        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(path);
        Assert.IsType<HuggingFaceWordPieceTokenizer>(tokenizer.Tokenizer);
        Assert.Equal(json["model"]!["vocab"]!["[MASK]"]?.GetValue<int>() ?? -1, TokenizerCatalog.SpecialTokens(tokenizer.Tokenizer)!.GetValueOrDefault("[MASK]", -1));
        Assert.Equal(json["model"]!["vocab"]!["the"]!.GetValue<int>(), TokenizerCatalog.Vocabulary(tokenizer.Tokenizer)!["the"]);
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            if (t["error"] is not null)
            {
                var e = Assert.Throws<InvalidFileException>(() => tokenizer.Encode(text, "text.txt"));
                Assert.Contains("lacks, and it has no unk_token", e.Message, StringComparison.Ordinal);
                continue;
            }

            var encoded = tokenizer.Encode(text, name);
            var ids = t["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray();
            Assert.Equal(ids, encoded.Ids);
            Assert.Equal(t["decoded"]!.GetValue<string>(), tokenizer.Tokenizer.Decode(ids));
            Assert.True(encoded.Bytes is not null, $"{name}: no byte counts for '{text}'");
            Assert.True(encoded.Ids.Length == tokenizer.AddedBefore.Count + tokenizer.AddedAfter.Count || Encoding.UTF8.GetByteCount(text) == encoded.Bytes!.Sum(), $"{name}: '{text}'");
        }
    }

    public static TheoryData<string> PrecompiledNormalizerNames => Names("precompiled_normalizers");

    /// <summary>What the goldens write in place of sp_unigram_nfkc_tokenizer.json's character map (317 KB of base64).</summary>
    private const string CharsmapStandIn = "<precompiled_charsmap of sp_unigram_nfkc_tokenizer.json>";

    private static JsonNode? WithCharsmap(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        var nfkc = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("sp_unigram_nfkc_tokenizer.json")))!;
        string charsmap = nfkc["normalizer"]!["normalizers"]!.AsArray().Single(n => n!["type"]!.GetValue<string>() == "Precompiled")!["precompiled_charsmap"]!.GetValue<string>();
        var copy = node.DeepClone();
        void Replace(JsonNode? n)
        {
            if (n is JsonObject o && o["precompiled_charsmap"]?.GetValue<string>() == CharsmapStandIn)
            {
                o["precompiled_charsmap"] = charsmap;
            }

            foreach (var child in n switch { JsonObject o2 => o2.Select(kv => kv.Value), JsonArray a => a, _ => [] })
            {
                Replace(child);
            }
        }

        Replace(copy);
        return copy;
    }

    private static bool HasUnicodeForm(JsonNode? normalizer) =>
        normalizer?.ToJsonString() is { } json && new[] { "NFC", "NFD", "NFKC", "NFKD", "BertNormalizer" }.Any(form => json.Contains($"\"type\":\"{form}\"", StringComparison.Ordinal));

    /// <summary>
    /// SentencePiece's character map (nmt_nfkc, as T5's, ALBERT's and XLM-R's) on its own and in T5's,
    /// newer converters' and ALBERT's sequences, Strip and StripAccents: each makes the Rust library's text
    /// (graphemes of under 6 bytes replaced whole by their shortest mapped prefix, longer ones char by char),
    /// and says where each of its chars comes from: spans that never decrease, inside the text, covering
    /// every char a step kept.
    /// </summary>
    [Theory]
    [MemberData(nameof(PrecompiledNormalizerNames))]
    public void Each_character_map_normalizer_makes_the_text_of_the_rust_library(string name)
    {
        var c = Case("precompiled_normalizers", name);
        if (HasUnicodeForm(c["normalizer"]) && !UnicodeForms.Available)
        {
            Assert.Skip($"needs a Unicode normalizer: {UnicodeForms.Source}");
        }

        var normalizer = HuggingFaceNormalizer.Read(WithCharsmap(c["normalizer"]), "tokenizer.json")!;
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>(), expected = t["normalized"]!.GetValue<string>();
            Assert.Equal(expected, normalizer.Normalize(text));
            AssertAligned(normalizer.Apply(text, track: true), text, expected, name);
        }
    }

    /// <summary>
    /// A Unigram tokenizer.json gives the Rust library's ids: make_sentencepiece.py's model without a
    /// character map (as converted, Metaspace alone, no post-processor) and its nmt_nfkc model with byte
    /// fallback (T5's normalizer and pre-tokenizers, XLM-R's Metaspace alone, each prepend scheme,
    /// splitting or not, newer converters' and ALBERT's normalizers), on texts with runs of spaces, tabs,
    /// added tokens, unknown characters (fused into one unknown token, or their bytes' pieces) and
    /// characters the map changes. Each token's bytes of the text as given sum to its UTF-8 length,
    /// wherever no Unicode form changed the text (a text of white space alone gives no tokens to count with).
    /// </summary>
    [Theory]
    [MemberData(nameof(UnigramNames))]
    public void Each_unigram_variant_gives_the_ids_of_the_rust_library(string name)
    {
        var c = Case("unigram", name);
        if (HasUnicodeForm(c["normalizer"]) && !UnicodeForms.Available)
        {
            Assert.Skip($"needs a Unicode normalizer: {UnicodeForms.Source}");
        }

        var json = JsonNode.Parse(File.ReadAllText(ModelFiles.Path(c["tokenizer"]?.GetValue<string>() ?? "sp_unigram_tokenizer.json")))!.AsObject();
        foreach (string part in new[] { "normalizer", "pre_tokenizer", "post_processor" })
        {
            json[part] = WithCharsmap(c[part]);
        }

        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.IsType<UnigramTokenizer>(tokenizer.Tokenizer);
        foreach (var t in c["texts"]!.AsArray())
        {
            string text = t!["text"]!.GetValue<string>();
            var encoded = tokenizer.Encode(text, name);
            Assert.Equal(t["ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoded.Ids);
            if (!HasUnicodeForm(c["normalizer"]))
            {
                Assert.NotNull(encoded.Bytes);
            }

            if (encoded.Bytes is { } bytes && !string.IsNullOrWhiteSpace(text))
            {
                Assert.Equal(Encoding.UTF8.GetByteCount(text), bytes.Sum());
                Assert.All(bytes, b => Assert.True(b >= 0));
            }
        }
    }

    /// <summary>
    /// Why <see cref="UnigramTokenizer"/> exists: <c>Microsoft.ML.Tokenizers</c> 3.0's Unigram gives other ids
    /// than the Rust library's for a leading space, the text after an added token, tabs and line breaks under
    /// WhitespaceSplit and runs of unknown characters. When this fails it gives the Rust library's ids on every
    /// text, and might replace it.
    /// </summary>
    [Fact]
    public void Microsoft_ml_tokenizers_unigram_gives_other_ids()
    {
        var c = Case("unigram", "as_converted");
        using var stream = File.OpenRead(ModelFiles.Path("sp_unigram_tokenizer.json"));
        var library = SentencePieceTokenizer.CreateFromTokenizerJson(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        int differ = c["texts"]!.AsArray().Count(t =>
            !t!["ids"]!.AsArray().Select(i => i!.GetValue<int>()).SequenceEqual(library.EncodeToIds(t["text"]!.GetValue<string>()).Append(2)));
        Assert.True(differ > 0, "Microsoft.ML.Tokenizers' Unigram now gives the Rust library's ids for every text");
    }
}
