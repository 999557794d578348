using System.Text.Json.Nodes;
using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c>: a byte-level BPE model (GPT-2, Llama 3, Qwen, DeepSeek V3 and
/// the like: <c>model.vocab</c>, <c>model.merges</c>, <c>added_tokens</c>, and the pre-tokenizer's
/// splits, <see cref="HuggingFacePreTokenizer"/>) becomes a <see cref="BpeTokenizer"/>, as does a character-level BPE
/// (no ByteLevel step: custom-trained with a Whitespace pre-tokenizer, or none), a SentencePiece-style BPE (Llama 2,
/// Mistral, Gemma) a SentencePiece model (<see cref="SentencePieceBpeJson"/>), each with the special
/// tokens its <c>post_processor</c> puts around a text (<see cref="HuggingFacePostProcessor"/>), and a
/// Unigram model (T5, ALBERT, XLM-R) a <see cref="UnigramTokenizer"/> (<see cref="UnigramJson"/>), and a WordLevel model a
/// <see cref="WordLevelTokenizer"/>, and a WordPiece model (BERT's) a <see cref="HuggingFaceWordPieceTokenizer"/>. A BPE dropout above 0 is refused by name.
/// </summary>
internal static class HuggingFaceTokenizerJson
{
    public static TextTokenizer Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new InvalidFileException(path, "is not a JSON object.");
        ThrowIfKeyTwice(root, path);
        var model = root["model"] as JsonObject ?? throw new InvalidFileException(path, "has no \"model\" object: not a Hugging Face tokenizer.json.");
        string type = model["type"]?.GetValue<string>() ?? InferredType(model);
        if (model["dropout"] is JsonValue d && d.TryGetValue(out double dropout) && dropout > 0)
        {
            throw new InvalidFileException(path, $"has a BPE dropout of {dropout}: Hugging Face's tokenizer then skips merges at random, so its ids for a text are not reproducible (a training setting left in the file); set \"dropout\" to null in a copy to encode without it.");
        }

        var (before, after) = HuggingFacePostProcessor.Read(root["post_processor"], path);
        // Hugging Face maps a text's bytes to the byte-level alphabet in its ByteLevel pre-tokenizer only (a ByteLevel decoder alone maps nothing).
        bool byteLevel = Mentions(root["pre_tokenizer"], "ByteLevel");
        var added = TokenizerJsonParts.AddedTokens(root, path);
        if (type == "Unigram")
        {
            var unigram = UnigramJson.Load(root, model, added, path);
            int size = Math.Max(Math.Max(unigram.Vocabulary.Count - 1, TokenizerCatalog.MaxId(unigram.SpecialTokens)), before.Concat(after).DefaultIfEmpty(-1).Max()) + 1;
            return DocumentPrefixes.Find(new TextTokenizer(unigram, path, size, false)
            {
                AddedBefore = before,
                AddedAfter = after,
                UnsupportedAddedTokens = Unsupported(added, unigram.Normalizer is not null),
            }, path);
        }
        if (type == "BPE" && !byteLevel && SentencePieceBpeJson.Is(root, model))
        {
            var spBpe = SentencePieceBpeJson.Load(root, model, added, path);
            int size = Math.Max(Math.Max(TokenizerCatalog.MaxId(spBpe.Vocabulary), TokenizerCatalog.MaxId(spBpe.SpecialTokens)), before.Concat(after).DefaultIfEmpty(-1).Max()) + 1;
            return DocumentPrefixes.Find(new TextTokenizer(spBpe, path, size, false) { AddedBefore = before, AddedAfter = after, UnsupportedAddedTokens = Unsupported(added, true) }, path);
        }

        if (type is "WordLevel" or "WordPiece")
        {
            return DocumentPrefixes.Find(WordModel(root, model, type, added, byteLevel, before, after, path), path);
        }

        if (type != "BPE")
        {
            throw new InvalidFileException(path, $"holds a {type} model; this reads BPE, Unigram, WordPiece and WordLevel tokenizer.json files.");
        }

        var vocab = TokenizerJsonParts.Vocabulary(model, path);
        var pairs = TokenizerJsonParts.Merges(model, path);
        // Microsoft.ML's BPE takes each merge as one "left right" string: a character-level model whose pieces hold spaces has them stand as U+FFFF.
        bool spaced = !byteLevel && pairs.Any(m => m.Left.Contains(' ') || m.Right.Contains(' '));
        if (spaced && vocab.Any(kv => kv.Key.Contains(PieceBpeTokenizer.SpaceStandIn)))
        {
            throw new InvalidFileException(path, "has pieces with spaces and with U+FFFF, which gpuinfo stands for the spaces; it cannot read both.");
        }

        if (spaced)
        {
            vocab = [.. vocab.Select(kv => KeyValuePair.Create(kv.Key.Replace(' ', PieceBpeTokenizer.SpaceStandIn), kv.Value))];
            pairs = [.. pairs.Select(m => (m.Left.Replace(' ', PieceBpeTokenizer.SpaceStandIn), m.Right.Replace(' ', PieceBpeTokenizer.SpaceStandIn)))];
        }

        var merges = pairs.Select(m => $"{m.Left} {m.Right}").ToList();
        var special = added.ToDictionary(t => t.Content, t => t.Id);
        // A BPE that is neither byte-level nor SentencePiece-style merges characters (custom-trained with the
        // tokenizers library's Whitespace pre-tokenizer, or none): its text between special tokens unsplit where it has none.
        var preTokenizer = HuggingFacePreTokenizer.Read(root["pre_tokenizer"], special.Count > 0 ? special : null, path, byteLevel);
        AlignedNormalizer? normalizer = HuggingFaceNormalizer.Read(root["normalizer"], path);
        if (preTokenizer.AddsPrefixSpace)
        {
            normalizer = new PrefixSpaceNormalizer(normalizer, special);
        }

        // An unk_token the vocabulary lacks: Hugging Face fails on the first symbol outside the vocabulary, where Microsoft.ML's BPE would drop it.
        if (model["unk_token"] is JsonValue named && named.TryGetValue(out string? unkName) && !vocab.Any(kv => kv.Key == unkName)
            && (!byteLevel || vocab.Count(kv => kv.Key.Length == 1 && ByteLevelText.IsStandIn(kv.Key[0])) < 256))
        {
            throw new InvalidFileException(path, $"names the unk_token '{unkName}', which its vocabulary lacks: Hugging Face's tokenizer fails on any {(byteLevel ? "byte" : "character")} outside the vocabulary, where gpuinfo's BPE would drop it; add the token to model.vocab, or set unk_token to null (Hugging Face then drops such {(byteLevel ? "bytes" : "characters")} too).");
        }

        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            // Hugging Face gives the unk_token for a byte outside the vocabulary only where the vocabulary holds it.
            UnknownToken = model["unk_token"] is JsonValue u && u.TryGetValue(out string? unk) && vocab.Any(kv => kv.Key == unk) ? unk : null,
            FuseUnknownTokens = model["fuse_unk"] is JsonValue f && f.TryGetValue(out bool fuse) && fuse,
            EndOfWordSuffix = model["end_of_word_suffix"] is JsonValue e && e.TryGetValue(out string? suffix) && suffix.Length > 0 ? suffix : null,
            ContinuingSubwordPrefix = model["continuing_subword_prefix"] is JsonValue c && c.TryGetValue(out string? prefix) && prefix.Length > 0 ? prefix : null,
        };
        Tokenizer tokenizer;
        if ((byteLevel && preTokenizer.SplitsBytes) || spaced)
        {
            // Steps after the ByteLevel cut the text's bytes, inside characters too (Falcon's Digits), or pieces hold
            // spaces: each piece cut here, then merged as characters by a BPE that neither maps bytes nor splits.
            options.PreTokenizer = HuggingFacePreTokenizer.Read(null, null, path, byteLevel: false);
            tokenizer = new PieceBpeTokenizer(BpeTokenizer.Create(options), byteLevel, special, preTokenizer, normalizer);
        }
        else
        {
            options.ByteLevel = byteLevel;
            options.SpecialTokens = special.Count > 0 ? special : null;
            options.PreTokenizer = preTokenizer;
            options.Normalizer = normalizer;
            tokenizer = BpeTokenizer.Create(options);
        }

        int max = Math.Max(Math.Max(TokenizerCatalog.MaxId(vocab), TokenizerCatalog.MaxId(special)), before.Concat(after).DefaultIfEmpty(-1).Max());
        // A text is encoded whole where each piece of it would get its own prefix space.
        return DocumentPrefixes.Find(new TextTokenizer(tokenizer, path, max + 1, splitsAtLines: !preTokenizer.AddsPrefixSpace) { AddedBefore = before, AddedAfter = after, UnsupportedAddedTokens = Unsupported(added, false) }, path);
    }

    /// <summary>A WordLevel or WordPiece model (<see cref="WordModelTokenizer"/>), with its added tokens, normalizer and pre-tokenizer.</summary>
    private static TextTokenizer WordModel(JsonObject root, JsonObject model, string type, List<AddedToken> added, bool byteLevel,
        IReadOnlyList<int> before, IReadOnlyList<int> after, string path)
    {
        if (byteLevel)
        {
            throw new InvalidFileException(path, $"holds a {type} model after a ByteLevel pre-tokenizer, which gpuinfo does not read.");
        }

        var words = TokenizerJsonParts.Vocabulary(model, path);
        var raw = added.Where(t => !t.Normalized).DistinctBy(t => t.Content).ToDictionary(t => t.Content, t => t.Id);
        var normalizer = HuggingFaceNormalizer.Read(root["normalizer"], path);
        // Hugging Face finds a normalized added token in the normalized text by its own normalized content ("Hello" as "hello" under Lowercase).
        var normalizedAdded = added.Where(t => t.Normalized).Select(t => (Content: normalizer?.Normalize(t.Content) ?? t.Content, t.Id))
            .Where(t => t.Content.Length > 0).DistinctBy(t => t.Content).ToDictionary(t => t.Content, t => t.Id);
        var preTokenizer = HuggingFacePreTokenizer.Read(root["pre_tokenizer"], normalizedAdded.Count > 0 ? normalizedAdded : null, path, byteLevel: false);
        string? unknown = model["unk_token"] is JsonValue u && u.TryGetValue(out string? unk) && words.Any(kv => kv.Key == unk) ? unk : null;
        var contents = added.Select(t => KeyValuePair.Create(t.Content, t.Id));
        WordModelTokenizer tokenizer = type == "WordLevel"
            ? new WordLevelTokenizer(words, unknown is null ? -1 : words.First(kv => kv.Key == unknown).Value, raw, normalizedAdded, contents, preTokenizer, normalizer)
            : new HuggingFaceWordPieceTokenizer(words, unknown,
                model["continuing_subword_prefix"] is JsonValue p && p.TryGetValue(out string? prefix) ? prefix : "##",
                model["max_input_chars_per_word"] is JsonValue m && m.TryGetValue(out int max) && max >= 0 ? max : 100,
                raw, normalizedAdded, contents, preTokenizer, normalizer, WordPieceDecoder(root["decoder"]));
        int size = Math.Max(Math.Max(TokenizerCatalog.MaxId(words), TokenizerCatalog.MaxId(tokenizer.SpecialTokens)), before.Concat(after).DefaultIfEmpty(-1).Max()) + 1;
        return new TextTokenizer(tokenizer, path, size, true)
        {
            AddedBefore = before,
            AddedAfter = after,
            UnsupportedAddedTokens = Unsupported(added, false),
        };
    }

    /// <summary>A <c>WordPiece</c> decoder's prefix and cleanup flag, or null (another decoder, or none: pieces joined by spaces).</summary>
    private static (string, bool)? WordPieceDecoder(JsonNode? decoder) =>
        decoder is JsonObject d && d["type"]?.GetValue<string>() == "WordPiece"
            ? (d["prefix"] is JsonValue p && p.TryGetValue(out string? prefix) ? prefix : "##", d["cleanup"] is not JsonValue c || !c.TryGetValue(out bool cleanup) || cleanup)
            : null;

    /// <summary>
    /// The kind of a model written without its "type" (older files), as Hugging Face's reader finds it:
    /// merges make a BPE, a vocabulary of [piece, score] pairs a Unigram, a subword prefix a WordPiece.
    /// </summary>
    private static string InferredType(JsonObject model) =>
        model.ContainsKey("merges") ? "BPE"
        : model["vocab"] is JsonArray ? "Unigram"
        : model.ContainsKey("continuing_subword_prefix") || model.ContainsKey("max_input_chars_per_word") ? "WordPiece"
        : "WordLevel";

    /// <summary>
    /// Refuses a file with a key twice in one object (a vocabulary giving a piece two ids), which .NET's
    /// JSON objects cannot hold and Hugging Face's reader takes the last of: named, not an internal error.
    /// </summary>
    private static void ThrowIfKeyTwice(JsonNode? node, string path)
    {
        try
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, value) in o)
                    {
                        ThrowIfKeyTwice(value, path);
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        ThrowIfKeyTwice(item, path);
                    }

                    break;
            }
        }
        catch (ArgumentException e)
        {
            throw new InvalidFileException(path, $"has a JSON object that holds a key twice ({e.Message.Split(" (Parameter", 2)[0]}); Hugging Face's reader takes the last, gpuinfo reads each key once.");
        }
    }

    /// <summary>The added tokens that a text must not hold, each with why (<see cref="AddedToken.Unsupported"/>).</summary>
    private static (string, string)[] Unsupported(List<AddedToken> added, bool normalizerChangesText) =>
        [.. added.Where(t => t.Unsupported(normalizerChangesText) is not null).Select(t => (t.Content, t.Unsupported(normalizerChangesText)!))];

    /// <summary>Whether a component (or one inside a Sequence) is of <paramref name="type"/>.</summary>
    private static bool Mentions(JsonNode? node, string type) => node switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == type => true,
        JsonObject o => o.Select(kv => kv.Value).OfType<JsonArray>().Any(list => list.Any(n => Mentions(n, type))),
        _ => false,
    };
}
