using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// The contexts of <c>ib --model</c> in words. Row r is the model's prediction of one token of the
/// text from the text before it: this names tokens (the tokenizer's decoding) and shows a row as the
/// end of the text before its token, and that token. Ids read with <c>--tokens</c> have no text: their
/// rows show ids, and their tokens' names where <c>--vocab</c> gives them.
/// </summary>
internal sealed class ModelContexts
{
    /// <summary>Characters of text shown before a context's token.</summary>
    private const int ContextChars = 48;

    private readonly ModelWindows _windows;
    private readonly ModelText _text;
    private readonly byte[]? _utf8;
    private readonly long[]? _starts;
    private readonly string[]? _names;

    /// <param name="names">Token strings by id (<c>--vocab</c>), for ids read without a tokenizer.</param>
    public ModelContexts(ModelRowSource source, ModelText text, string[]? names = null)
    {
        _windows = source.Windows;
        _text = text;
        _names = names;
        if (text.Content is not null && text.Tokens.Bytes is { } bytes)
        {
            _utf8 = Encoding.UTF8.GetBytes(text.Content);
            _starts = new long[bytes.Length + 1];
            for (int i = 0; i < bytes.Length; i++)
            {
                _starts[i + 1] = _starts[i] + bytes[i];
            }
        }
    }

    /// <summary>A token's text by the tokenizer (null past its vocabulary: a model's may be larger), else by the names given, else null.</summary>
    public string? TokenText(int id) => _text.Tokenizer is { } tokenizer
        ? (id >= tokenizer.VocabularySize ? null : tokenizer.Tokenizer.Decode([id]))
        : _names?[id];

    /// <summary>Whether byte <paramref name="at"/> of the text starts a character (or is its end).</summary>
    private bool CharStart(long at) => at <= 0 || at >= _utf8!.Length || (_utf8[at] & 0xC0) != 0x80;

    /// <summary>The id of the last token of row <paramref name="row"/>'s context (the token before the one it predicts).</summary>
    public int LastToken(int row) => _text.Tokens.Ids[_windows.TokenOfRow(row) - 1];

    /// <summary>Row <paramref name="row"/>: its token's index and id, and with the text, the text before it and the token's own text.</summary>
    public JsonObject Example(long row)
    {
        long token = _windows.TokenOfRow(row);
        int id = _text.Tokens.Ids[token];
        var example = new JsonObject { ["row"] = row, ["token_index"] = token, ["next_id"] = id };
        if (_utf8 is not null && _starts is not null)
        {
            // A token may hold part of a character (byte-level BPE): the context ends where that character starts.
            long start = _starts[token], end = _starts[token + 1], upTo = start;
            while (!CharStart(upTo))
            {
                upTo--;
            }

            // The window's own text only: the model saw nothing before it (nor of the documents before).
            long windowStart = _starts[_windows.Begin(_windows.Locate(row).Window)];
            long from = Math.Max(windowStart, upTo - (4 * ContextChars));
            while (!CharStart(from))
            {
                from++; // not into the middle of a character
            }

            string before = Encoding.UTF8.GetString(_utf8, (int)from, (int)(upTo - from));
            bool cut = from > windowStart || before.Length > ContextChars;
            example["context"] = (cut ? "…" : string.Empty) + before[Math.Max(0, before.Length - ContextChars)..];
            // A token that holds part of a character is shown as the whole character(s) it is part of; one with no bytes of the text, by its decoding.
            long upToEnd = end;
            while (!CharStart(upToEnd))
            {
                upToEnd++;
            }

            example["next"] = end > start ? Encoding.UTF8.GetString(_utf8, (int)upTo, (int)(upToEnd - upTo)) : TokenText(id);
        }
        else if (TokenText(id) is { } next)
        {
            example["next"] = next;
        }

        return example;
    }
}
