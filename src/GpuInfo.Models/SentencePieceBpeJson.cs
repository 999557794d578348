using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A <c>tokenizer.json</c> of a SentencePiece-style BPE (Llama 2, TinyLlama, Mistral, Gemma: pieces with
/// '▁' for spaces, <c>byte_fallback</c> to <c>&lt;0xNN&gt;</c> pieces, no byte-level alphabet), as
/// transformers' converter writes it from a SentencePiece model, and as ONNX exports for transformers.js
/// ship it without the model, becomes a <see cref="SentencePieceBpe"/>: its merges in rank order, its
/// added tokens found in the text first, and the normalizer's whitespace rules (<c>Replace(' ', '▁')</c>,
/// <c>Prepend('▁')</c>, or a <c>Metaspace</c> pre-tokenizer, which may split the text into words at each
/// '▁', as older Mistral files do). Normalizer steps before those (the <c>Precompiled</c> character map and
/// <c>Replace(' {2,}', ' ')</c> that transformers' T5 converter writes for a BPE model, as for VietAI's
/// envit5) normalize each run between added tokens first (<see cref="HuggingFaceNormalizer"/>). Anything else
/// in the file that would change the ids (a step after the whitespace rules, a splitting pre-tokenizer,
/// subword prefixes) is refused by name.
/// </summary>
internal static class SentencePieceBpeJson
{
    private const char Space = SentencePieceBpe.Space;

    /// <summary>
    /// Whether the file is SentencePiece-style: byte fallback, or a '▁' piece with a rule that makes spaces
    /// '▁' (a Metaspace pre-tokenizer, a Replace or Prepend of '▁'). A '▁' piece without such a rule is a
    /// character-level BPE's (custom-trained with a Whitespace pre-tokenizer): Hugging Face never makes a '▁' for it.
    /// </summary>
    public static bool Is(JsonObject root, JsonObject model) => model["byte_fallback"]?.GetValue<bool>() == true
        || ((model["vocab"] as JsonObject)?.ContainsKey($"{Space}") == true
            && (Holds(root["pre_tokenizer"], "Metaspace") || Holds(root["normalizer"], $"{Space}")));

    /// <summary>Whether a string value anywhere in <paramref name="node"/> is <paramref name="value"/>.</summary>
    private static bool Holds(JsonNode? node, string value) => node switch
    {
        JsonValue v => v.TryGetValue(out string? s) && s == value,
        JsonObject o => o.Any(kv => Holds(kv.Value, value)),
        JsonArray a => a.Any(item => Holds(item, value)),
        _ => false,
    };

    public static SentencePieceBpe Load(JsonObject root, JsonObject model, IReadOnlyList<AddedToken> addedTokens, string path)
    {
        var (escape, dummyPrefix, splits, normalizer) = Whitespace(root, path);
        foreach (string key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model[key] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0)
            {
                throw new InvalidFileException(path, $"has a BPE model with a {key} ('{s}'), which no SentencePiece model has.");
            }
        }

        if (model["ignore_merges"]?.GetValue<bool>() == true)
        {
            throw new InvalidFileException(path, "has a SentencePiece-style BPE model with ignore_merges, which SentencePiece does not do.");
        }

        var vocab = TokenizerJsonParts.Vocabulary(model, path);
        // Ids 0 to the largest; one no piece has (Yi's vocabulary leaves 8 out) is never given.
        var pieces = new string[vocab.Count == 0 ? 0 : vocab.Max(kv => kv.Value) + 1];
        foreach (var (piece, id) in vocab)
        {
            if (pieces[id] is { } other)
            {
                throw new InvalidFileException(path, $"gives both '{other}' and '{piece}' the id {id}: a SentencePiece vocabulary gives each id one piece.");
            }

            pieces[id] = piece;
        }

        var pairs = TokenizerJsonParts.Merges(model, path);
        // Without an unk_token, a text holding a character outside the vocabulary (and its bytes' pieces) is refused where it is met.
        int unk = model["unk_token"] is not JsonValue u || !u.TryGetValue(out string? unkToken) ? -1
            : Array.IndexOf(pieces, unkToken) is >= 0 and var unkId ? unkId
            : throw new InvalidFileException(path, $"has a SentencePiece-style BPE model whose unk_token, '{unkToken}', is not in its vocabulary.");
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in addedTokens)
        {
            added[token.Content] = token.Id;
        }

        try
        {
            return new SentencePieceBpe(pieces, SentencePieceBpe.Merges.Ranked(pairs), added, unk,
                byteFallback: model["byte_fallback"]?.GetValue<bool>() == true, fuseUnknown: model["fuse_unk"]?.GetValue<bool>() == true, escape, dummyPrefix)
            {
                SplitsAtSpaces = splits,
                RunNormalizer = normalizer,
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidFileException(path, e.Message);
        }
    }

    /// <summary>
    /// Whether spaces become '▁', where a dummy prefix goes, and whether each '▁' begins a word of its own (a
    /// Metaspace pre-tokenizer's split), from the normalizer and pre-tokenizer; and the normalizer's steps
    /// before its whitespace rules, or null.
    /// </summary>
    private static (bool Escape, DummyPrefix DummyPrefix, bool Splits, HuggingFaceNormalizer? Before) Whitespace(JsonObject root, string path)
    {
        bool prepend = false, escape = false, splits = false;
        var metaspace = DummyPrefix.None;
        var before = new JsonArray();
        void Normalizer(JsonNode? node)
        {
            switch (node?["type"]?.GetValue<string>())
            {
                case null:
                    break;
                case "Sequence":
                    foreach (var inner in node["normalizers"] as JsonArray ?? [])
                    {
                        Normalizer(inner);
                    }

                    break;
                case "Replace" when PatternString(node) == " " && node["content"]?.GetValue<string>() == $"{Space}":
                    escape = true;
                    break;
                case "Prepend" when node["prepend"]?.GetValue<string>() == $"{Space}":
                    prepend = true;
                    break;
                case string when !escape && !prepend:
                    before.Add(node.DeepClone());
                    break;
                case var type:
                    throw new InvalidFileException(path, $"has a {type} normalizer{Pattern(node)} after its Replace(' ', '{Space}') or Prepend('{Space}'); a SentencePiece-style BPE is read with other steps before those.");
            }
        }

        Normalizer(root["normalizer"]);
        bool metaspaceSeen = false;
        void PreTokenizer(JsonNode? pre)
        {
            switch (pre?["type"]?.GetValue<string>())
            {
                case null:
                    break;
                case "Sequence":
                    foreach (var inner in pre["pretokenizers"] as JsonArray ?? [])
                    {
                        PreTokenizer(inner);
                    }

                    break;
                case "Metaspace" when !metaspaceSeen && pre["replacement"]?.GetValue<string>() is null or "\u2581":
                    metaspaceSeen = true;
                    splits = pre["split"]?.GetValue<bool>() ?? true; // Hugging Face's default, for files written before the key
                    string scheme = pre["prepend_scheme"]?.GetValue<string>() ?? (pre["add_prefix_space"]?.GetValue<bool>() == false ? "never" : "always");
                    escape = true;
                    metaspace = scheme switch
                    {
                        "first" => DummyPrefix.FirstUnlessSpace,
                        "always" => DummyPrefix.EachUnlessSpace,
                        "never" => DummyPrefix.None,
                        _ => throw new InvalidFileException(path, $"has a Metaspace pre-tokenizer with prepend_scheme '{scheme}', not first, always or never."),
                    };
                    break;
                case "Split" when escape && PatternString(pre) == " ":
                    break; // Gemma's, BORA's: the normalizer or the Metaspace before it left no space to split at
                case var type:
                    throw new InvalidFileException(path, $"has a {type} pre-tokenizer; a SentencePiece-style BPE is read with none, a Metaspace one, or a split at spaces that its normalizer or Metaspace already replaced.");
            }
        }

        PreTokenizer(root["pre_tokenizer"]);

        if (prepend && !escape)
        {
            throw new InvalidFileException(path, $"prepends '{Space}' to a text whose spaces it keeps; SentencePiece escapes both or neither.");
        }

        if (prepend && metaspace != DummyPrefix.None)
        {
            throw new InvalidFileException(path, $"prepends '{Space}' twice, by a Prepend normalizer and a Metaspace pre-tokenizer.");
        }

        var steps = before.Count == 0 ? null : HuggingFaceNormalizer.Read(new JsonObject { ["type"] = "Sequence", ["normalizers"] = before }, path);
        return (escape, prepend ? DummyPrefix.Always : metaspace, splits, steps);
    }

    private static string? PatternString(JsonNode node) => (node["pattern"] as JsonObject)?["String"]?.GetValue<string>();

    private static string Pattern(JsonNode node) => node["pattern"] is JsonObject p ? $" ({p.ToJsonString()})" : "";
}
