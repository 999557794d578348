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
/// Metaspace scheme, splitting or not; and that Microsoft.ML.Tokenizers' Unigram, which gpuinfo
/// therefore refuses, still gives other ids than a Unigram model's.
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
    /// characters), <see cref="SplitInsideCharacterException"/>, which the tokenizer turns into a refusal.
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

    /// <summary>A text where a step after ByteLevel splits a character's bytes apart ("β" as "Î" and "²" under Falcon's Digits) is refused, naming the file and the character; other text is encoded.</summary>
    [Fact]
    public void A_text_whose_character_the_pre_tokenizer_splits_apart_is_refused_naming_it()
    {
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), preTokenizer: Case("pre_tokenizers", "falcon")["pre_tokenizer"]!.ToJsonString());
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        Assert.NotEmpty(tokenizer.Encode("Hello, world: 2024 (and «more»)!", "t").Ids);
        var e = Assert.Throws<InvalidFileException>(() => tokenizer.Encode("the angle \u03B2 = 2", "corpus.txt"));
        Assert.StartsWith("corpus.txt", e.Message, StringComparison.Ordinal);
        Assert.Contains("U+03B2 at char 10", e.Message, StringComparison.Ordinal);

        // Under a normalizer that shortens the text, the character is named where the pre-tokenizer saw it.
        var json = JsonNode.Parse(File.ReadAllText(dir.File("tokenizer.json")))!.AsObject();
        json["normalizer"] = JsonNode.Parse("""{"type": "Lowercase"}""");
        File.WriteAllText(dir.File("lower.json"), json.ToJsonString());
        var lower = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("lower.json")).Encode("\u0130\u0130\u0130 \u03B2", "corpus.txt"));
        Assert.Contains("U+03B2 (as normalized) at char 7", lower.Message, StringComparison.Ordinal);
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
            Assert.Equal(t!["normalized"]!.GetValue<string>(), normalizer.Normalize(t["text"]!.GetValue<string>()));
        }
    }

    [Theory]
    [MemberData(nameof(MetaspaceNames))]
    public void Each_metaspace_scheme_gives_the_ids_of_the_rust_library(string name)
    {
        var c = Case("sentencepiece_bpe", name);
        var json = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("sp_bpe_tokenizer.json")))!.AsObject();
        json["normalizer"] = null;
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

    /// <summary>
    /// A Unigram tokenizer.json is refused, naming the file, since <c>Microsoft.ML.Tokenizers</c>' Unigram
    /// gives other ids than the Rust library's. When this test fails, Microsoft.ML's ids have become Hugging
    /// Face's on make_sentencepiece.py's Unigram model (a leading space, text after an added token, tabs and
    /// line breaks, runs of unknown characters): read Unigram files again, checked by these goldens.
    /// </summary>
    [Theory]
    [MemberData(nameof(UnigramNames))]
    public void A_unigram_model_is_refused_while_microsoft_ml_gives_other_ids(string name)
    {
        var c = Case("unigram", name);
        var json = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("sp_unigram_tokenizer.json")))!.AsObject();
        foreach (string part in new[] { "normalizer", "pre_tokenizer", "post_processor" })
        {
            json[part] = c[part]?.DeepClone();
        }

        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var refused = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("tokenizer.json")));
        Assert.StartsWith(dir.File("tokenizer.json"), refused.Message, StringComparison.Ordinal);
        Assert.Contains("Unigram", refused.Message, StringComparison.Ordinal);

        using var stream = File.OpenRead(dir.File("tokenizer.json"));
        var library = SentencePieceTokenizer.CreateFromTokenizerJson(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        int[] after = c["post_processor"] is null ? [] : [2];
        int differ = c["texts"]!.AsArray().Count(t =>
            !t!["ids"]!.AsArray().Select(i => i!.GetValue<int>()).SequenceEqual(library.EncodeToIds(t["text"]!.GetValue<string>()).Concat(after)));
        Assert.True(differ > 0, "Microsoft.ML.Tokenizers' Unigram now gives the Rust library's ids for every text: read Unigram tokenizer.json files again");
    }
}
