using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>An entry of a tokenizer.json's <c>added_tokens</c>, with the flags that change how Hugging Face finds it in a text.</summary>
internal sealed record AddedToken(string Content, int Id, bool Special, bool Normalized, bool LeftStrip, bool RightStrip, bool SingleWord)
{
    /// <summary>
    /// Why this token, where a text holds it, would not be split off as Hugging Face's tokenizer splits
    /// it, or null: the spaces it takes to its left or right (lstrip, rstrip), its matching whole words
    /// only (single_word), or its matching the normalized text (normalized, where the normalizer
    /// changes the text: a SentencePiece-style one).
    /// </summary>
    public string? Unsupported(bool normalizerChangesText) =>
        LeftStrip ? "takes the spaces before it (lstrip)"
        : RightStrip ? "takes the spaces after it (rstrip)"
        : SingleWord ? "matches whole words only (single_word)"
        : Normalized && !Special && normalizerChangesText ? "is matched in the normalized text (normalized)"
        : null;
}

/// <summary>The vocabulary, merges and added tokens of a Hugging Face tokenizer.json, each entry checked, so that a malformed one is named.</summary>
internal static class TokenizerJsonParts
{
    public static List<KeyValuePair<string, int>> Vocabulary(JsonObject model, string path) =>
        [.. (model["vocab"] as JsonObject is { Count: > 0 } vocab ? vocab
                : throw new InvalidFileException(path, model["vocab"] is JsonObject ? "has an empty model.vocab: no piece to encode a text with." : "has no model.vocab object."))
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value is JsonValue v && v.TryGetValue(out int id) && id >= 0 ? id
                : throw new InvalidFileException(path, $"gives the piece '{kv.Key}' the id {kv.Value?.ToJsonString() ?? "null"}, not a vocabulary index.")))];

    /// <summary>The merges in rank order: each a pair of pieces (["a", "b"]) or one string ("a b").</summary>
    public static List<(string Left, string Right)> Merges(JsonObject model, string path) =>
        [.. (model["merges"] as JsonArray ?? throw new InvalidFileException(path, "has no model.merges array."))
            .Select((merge, rank) => merge switch
            {
                JsonArray { Count: 2 } pair when Text(pair[0]) is { } left && Text(pair[1]) is { } right => (left, right),
                JsonValue line when line.TryGetValue(out string? text) && text.IndexOf(' ', StringComparison.Ordinal) is > 0 and var at => (text[..at], text[(at + 1)..]),
                var other => throw new InvalidFileException(path, $"has merge {rank}, {other?.ToJsonString() ?? "null"}, that is not two pieces."),
            })];

    public static List<AddedToken> AddedTokens(JsonObject root, string path) =>
        [.. (root["added_tokens"] as JsonArray ?? []).Select((node, i) => node is JsonObject token
                && Text(token["content"]) is { Length: > 0 } content && token["id"] is JsonValue v && v.TryGetValue(out int id) && id >= 0
            ? new AddedToken(content, id, Flag(token, "special"), Flag(token, "normalized"), Flag(token, "lstrip"), Flag(token, "rstrip"), Flag(token, "single_word"))
            : throw new InvalidFileException(path, $"has added token {i}, {node?.ToJsonString() ?? "null"}, without a content string and an id."))];

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static bool Flag(JsonObject token, string key) => token[key] is JsonValue v && v.TryGetValue(out bool b) && b;
}
