using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// Finds a tokenizer's <see cref="TextTokenizer.DocumentPrefix"/>, the token lm-evaluation-harness
/// puts before a document (its <c>prefix_token_id</c>: <c>bos_token_id</c>, else <c>eos_token_id</c>,
/// as transformers loads them): the <c>bos_token</c>, else the <c>eos_token</c>, of a
/// <c>tokenizer_config.json</c> beside the tokenizer's file; without one naming either, a
/// SentencePiece model's BOS, else its EOS, or a <c>&lt;|endoftext|&gt;</c> token (GPT-2's BOS and EOS,
/// and the built-in tiktoken encodings'). Never throws: a config that cannot be read or names no single
/// token leaves no prefix, and says why in <see cref="TextTokenizer.DocumentPrefixSource"/>, so that
/// only a run that asks for it fails.
/// </summary>
public static class DocumentPrefixes
{
    private const string EndOfText = "<|endoftext|>";

    /// <param name="tokenizer">The tokenizer, whose prefix is set.</param>
    /// <param name="path">The tokenizer's file, beside which a tokenizer_config.json is looked for; null for one built in or read from streams.</param>
    public static TextTokenizer Find(TextTokenizer tokenizer, string? path)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var (id, source) = FromConfig(tokenizer, path)
            ?? (tokenizer.BeginsEachText is { } bos ? (bos, "the BOS the tokenizer puts before each text") : Fallback(tokenizer.Tokenizer));
        tokenizer.DocumentPrefix = id;
        tokenizer.DocumentPrefixSource = source;
        return tokenizer;
    }

    /// <summary>The config's bos_token, else eos_token; null where there is no config or it names neither.</summary>
    private static (int? Id, string Source)? FromConfig(TextTokenizer tokenizer, string? path)
    {
        string? config = path is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
        if (config is null || !File.Exists(config))
        {
            return null;
        }

        JsonObject? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(config)) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, $"{config} cannot be read as JSON ({e.Message.Split('\n')[0]})");
        }

        if (root is null)
        {
            return (null, $"{config} is not a JSON object");
        }

        foreach (string key in new[] { "bos_token", "eos_token" })
        {
            string? content = root[key] switch
            {
                JsonValue v when v.TryGetValue(out string? text) => text,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? text) => text,
                _ => null,
            };
            if (content is not null)
            {
                return TokenizerCatalog.TokenId(tokenizer.Tokenizer, content) is { } id
                    ? (id, $"{key} '{content}' of {config}")
                    : (null, $"the {key} '{content}' of {config} is not one token of {tokenizer.Name}");
            }
        }

        return null;
    }

    private static (int? Id, string Source) Fallback(Tokenizer tokenizer)
    {
        if (tokenizer is SentencePieceTokenizer sp)
        {
            return sp.BeginningOfSentenceId >= 0 ? (sp.BeginningOfSentenceId, $"the SentencePiece model's BOS '{sp.BeginningOfSentenceToken}'")
                : sp.EndOfSentenceId >= 0 ? (sp.EndOfSentenceId, $"the SentencePiece model's EOS '{sp.EndOfSentenceToken}'")
                : (null, "the SentencePiece model has no BOS or EOS");
        }

        var (bos, eos) = tokenizer switch
        {
            SentencePieceBpe bpe => (bpe.BeginningOfSentenceId, bpe.EndOfSentenceId),
            UnigramTokenizer unigram => (unigram.BeginningOfSentenceId, unigram.EndOfSentenceId),
            _ => (-1, -1),
        };
        if (bos >= 0 || eos >= 0)
        {
            return bos >= 0 ? (bos, "the SentencePiece model's BOS") : (eos, "the SentencePiece model's EOS");
        }

        return TokenizerCatalog.TokenId(tokenizer, EndOfText) is { } id
            ? (id, $"its {EndOfText} token (GPT-2's BOS and EOS)")
            : (null, $"no tokenizer_config.json beside it names a bos_token or eos_token, and it has no {EndOfText} token");
    }
}
