using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A <c>tokenizer.json</c> of a Unigram model (T5, mT5, ALBERT, XLM-R, XGLM: <c>model.vocab</c> as [piece,
/// score] pairs, <c>unk_id</c>, <c>byte_fallback</c>) becomes a <see cref="UnigramTokenizer"/>, with its
/// normalizer (<see cref="HuggingFaceNormalizer"/>) and its pre-tokenizer: none, <c>WhitespaceSplit</c>,
/// <c>Metaspace</c>, or a Sequence of the two in that order, as transformers' converters write them, and other
/// steps (<see cref="HuggingFacePreTokenizer"/>) before the Metaspace (a <c>Whitespace</c>) or after it (older T5
/// files' <c>Digits</c> and <c>Punctuation</c>). A ByteLevel step is refused by name.
/// </summary>
internal static class UnigramJson
{
    public static UnigramTokenizer Load(JsonObject root, JsonObject model, IReadOnlyList<AddedToken> addedTokens, string path)
    {
        var vocabulary = (model["vocab"] as JsonArray ?? throw new InvalidFileException(path, "has a Unigram model without a vocab array."))
            .Select((entry, id) => entry is JsonArray { Count: 2 } pair && pair[0] is JsonValue p && p.TryGetValue(out string? piece)
                && pair[1] is JsonValue s && s.TryGetValue(out double score) && double.IsFinite(score)
                ? (piece, score)
                : throw new InvalidFileException(path, $"has Unigram vocabulary entry {id}, {entry?.ToJsonString() ?? "null"}, that is not a piece and a finite score."))
            .ToList();
        if (vocabulary.Count == 0)
        {
            throw new InvalidFileException(path, "has a Unigram model with an empty vocabulary.");
        }

        int unknownId = model["unk_id"] is JsonValue u && u.TryGetValue(out int unk) ? unk
            : throw new InvalidFileException(path, "has a Unigram model without an unk_id: Hugging Face's fails on the first character outside its vocabulary, and gpuinfo does not read such a model.");
        if (unknownId < 0 || unknownId >= vocabulary.Count)
        {
            throw new InvalidFileException(path, $"has a Unigram unk_id of {unknownId}, outside its {vocabulary.Count} pieces.");
        }

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in addedTokens)
        {
            added[token.Content] = token.Id;
        }

        return new UnigramTokenizer(vocabulary, unknownId, model["byte_fallback"]?.GetValue<bool>() == true, added,
            HuggingFaceNormalizer.Read(root["normalizer"], path), Words(root["pre_tokenizer"], path));
    }

    /// <summary>
    /// The words a pre-tokenizer cuts: WhitespaceSplit's, or other steps' (a Whitespace); then Metaspace's (each scheme,
    /// splitting or not); then each piece it makes cut by the steps after it (Digits, Punctuation).
    /// </summary>
    private static UnigramWords Words(JsonNode? pre, string path)
    {
        var steps = pre?["type"]?.GetValue<string>() == "Sequence" ? [.. (pre["pretokenizers"] as JsonArray ?? [])] : pre is null ? [] : new List<JsonNode?> { pre };
        int metaspace = steps.FindIndex(step => step?["type"]?.GetValue<string>() == "Metaspace");
        if (steps.Count(step => step?["type"]?.GetValue<string>() == "Metaspace") > 1)
        {
            throw new InvalidFileException(path, "has two Metaspace pre-tokenizers; a Unigram model is read with one.");
        }

        var before = metaspace < 0 ? steps : steps[..metaspace];
        var after = metaspace < 0 ? [] : steps[(metaspace + 1)..];
        var words = new UnigramWords(false, null, DummyPrefix.None, false);
        if (before is [{ } only] && only["type"]?.GetValue<string>() == "WhitespaceSplit")
        {
            words = words with { WhitespaceSplit = true };
        }
        else if (before.Count > 0)
        {
            words = words with { Before = Steps(before, path) };
        }

        if (metaspace >= 0)
        {
            words = Metaspace(steps[metaspace]!, words, path) with { After = after.Count > 0 ? Steps(after, path) : null };
        }

        return words;
    }

    /// <summary>Steps of a Sequence as one pre-tokenizer (no special tokens: the Unigram tokenizer finds those first).</summary>
    private static HuggingFacePreTokenizer Steps(List<JsonNode?> steps, string path)
    {
        if (steps.FirstOrDefault(step => step?["type"]?.GetValue<string>() is "ByteLevel" or "Metaspace") is { } other)
        {
            throw new InvalidFileException(path, $"has a {other["type"]} pre-tokenizer with a Unigram model, which gpuinfo does not read.");
        }

        return HuggingFacePreTokenizer.Read(new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray([.. steps.Select(s => s?.DeepClone())]) }, null, path, byteLevel: false);
    }

    private static UnigramWords Metaspace(JsonNode step, UnigramWords words, string path)
    {
        string replacement = step["replacement"]?.GetValue<string>() ?? "\u2581";
        if (replacement.Length != 1)
        {
            throw new InvalidFileException(path, $"has a Metaspace pre-tokenizer whose replacement, '{replacement}', is not one char.");
        }

        // Files written before prepend_scheme say add_prefix_space; split is Hugging Face's default where absent.
        string scheme = step["prepend_scheme"]?.GetValue<string>() ?? (step["add_prefix_space"]?.GetValue<bool>() == false ? "never" : "always");
        var prefix = scheme switch
        {
            "first" => DummyPrefix.FirstUnlessSpace,
            "always" => DummyPrefix.EachUnlessSpace,
            "never" => DummyPrefix.None,
            _ => throw new InvalidFileException(path, $"has a Metaspace pre-tokenizer with prepend_scheme '{scheme}', not first, always or never."),
        };
        return words with { Replacement = replacement[0], Prefix = prefix, SplitAtReplacement = step["split"]?.GetValue<bool>() ?? true };
    }
}
