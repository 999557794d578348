using System.IO.Compression;
using System.Reflection;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// The UTF-8 bytes of text a token's piece encodes, where the tokenizer says, for
/// <see cref="TokenBytes.FromPieces"/>: -1 where it does not (special, control and unknown tokens).
/// What <c>Microsoft.ML.Tokenizers</c> 3.0 gives as <see cref="EncodedToken.Value"/>:
/// <list type="bullet">
///   <item><description>byte-level BPE (<see cref="BpeTokenizer.ByteLevel"/>: vocab.json with merges.txt, a BPE tokenizer.json):
///   the token's mapped string, one char (of GPT-2's 256-char byte alphabet) per byte, so its length is the byte count ('é' is the tokens "Ã" and "©");</description></item>
///   <item><description>tiktoken (<c>gpt2</c>, <c>r50k_base</c>, <c>cl100k_base</c>, <c>o200k_base</c>): the text of the token's
///   offsets, which for a character split over tokens is the whole character in each; the bytes come
///   from the encoding's table instead (<see cref="Tiktoken"/>), the one the tokenizer is built from;</description></item>
///   <item><description>Microsoft.ML's SentencePiece (a tokenizer built from one by a caller; gpuinfo's own loaders make <see cref="SentencePieceBpe"/>): the piece; a byte-fallback
///   piece <c>&lt;0xNN&gt;</c> is one byte, another piece its own UTF-8 (its text, when the tokenizer did not
///   normalize the text: otherwise no bytes are counted at all, see <see cref="TextTokenizer.Encode"/>).</description></item>
///   <item><description><see cref="SentencePieceBpe"/> and <see cref="UnigramTokenizer"/>: a byte-fallback piece is one byte; another counts by its offsets, which point into the text as given.</description></item>
///   <item><description><see cref="PieceBpeTokenizer"/> over byte stand-ins (Falcon's): as byte-level BPE, a token that holds part of a
///   character counting the bytes it holds; over characters, and <see cref="WordModelTokenizer"/>'s: by offsets.</description></item>
/// </list>
/// </summary>
internal static class TokenPieces
{
    /// <summary>The rule for <paramref name="tokenizer"/>'s kind, or null where its pieces are not byte-exact (a tiktoken tokenizer needs its table: <see cref="Tiktoken"/>).</summary>
    public static Func<EncodedToken, int>? For(Tokenizer tokenizer) => tokenizer switch
    {
        BpeTokenizer { ByteLevel: true } bpe => token => ByteLevel(token, bpe),
        PieceBpeTokenizer { ByteLevel: true } pieces => token => pieces.IsSpecial(token) ? -1 : ByteLevel(token, pieces.Bpe),
        SentencePieceTokenizer sp => token => SentencePiece(token, sp),
        SentencePieceBpe sp => token => sp.IsBytePiece(token.Id) ? 1 : -1,
        UnigramTokenizer unigram => token => unigram.IsBytePiece(token.Id) ? 1 : -1,
        _ => null,
    };

    /// <summary>
    /// A built-in tiktoken encoding's bytes per token id, read (on first use) from the same embedded
    /// table (<c>Microsoft.ML.Tokenizers.Data.*</c>: base64 tokens, one per line in rank order) that the
    /// tokenizer is built from; null rule where the table cannot be read, so the offsets count instead.
    /// </summary>
    public static Func<EncodedToken, int> Tiktoken(Lazy<int[]?> table) =>
        token => table.Value is { } t && token.Id >= 0 && token.Id < t.Length && t[token.Id] > 0 ? t[token.Id] : -1;

    /// <summary>A built-in tiktoken encoding's bytes per token id (0 for an id it lacks), read on first use; null where the table cannot be read.</summary>
    public static Lazy<int[]?> TiktokenTable(string encoding) => new(() => ReadTiktokenTable(encoding));

    /// <summary>
    /// The bytes each id's piece encodes, for every id, where the tokenizer's pieces are byte-exact by id alone
    /// (byte-level BPE: -1 for a special or unknown token, or a piece that is not all byte stand-ins); null for
    /// other kinds (their pieces depend on the text, or on code of their own).
    /// </summary>
    public static int[]? ByIds(Tokenizer tokenizer)
    {
        if (tokenizer is not BpeTokenizer { ByteLevel: true } bpe)
        {
            return null;
        }

        var vocabulary = bpe.Vocabulary;
        var table = new int[vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1];
        Array.Fill(table, -1);
        foreach (var (piece, id) in vocabulary)
        {
            table[id] = ByteLevel(new EncodedToken(id, piece, default), bpe);
        }

        return table;
    }

    /// <summary>
    /// <paramref name="table"/> (ids' bytes, 0 or -1 where unknown) with each special token of a tiktoken or BPE tokenizer
    /// counting the UTF-8 bytes of its text, as its offsets count it: the pre-tokenizer cuts the text at it, so its
    /// range is its text. Null where <paramref name="table"/> is.
    /// </summary>
    public static int[]? WithSpecialTokens(int[]? table, Tokenizer tokenizer)
    {
        var special = tokenizer switch
        {
            TiktokenTokenizer tiktoken => tiktoken.SpecialTokens,
            BpeTokenizer bpe => bpe.SpecialTokens,
            _ => null,
        };
        if (table is null || special is not { Count: > 0 })
        {
            return table;
        }

        var merged = new int[Math.Max(table.Length, special.Values.Max() + 1)];
        Array.Fill(merged, -1);
        table.CopyTo(merged, 0);
        foreach (var (text, id) in special)
        {
            merged[id] = text.Length > 0 ? Encoding.UTF8.GetByteCount(text) : -1;
        }

        return merged;
    }

    /// <summary>A byte-level token's bytes: one per stand-in char of its piece, less the model's subword prefix and end-of-word suffix (CLIP's "&lt;/w&gt;"); -1 for a special or unknown token.</summary>
    private static int ByteLevel(EncodedToken token, BpeTokenizer bpe)
    {
        if ((bpe.SpecialTokens is { } special && special.TryGetValue(token.Value, out int id) && id == token.Id)
            || (bpe.UnknownToken is { } unknown && token.Value == unknown))
        {
            return -1;
        }

        var piece = token.Value.AsSpan();
        if (bpe.ContinuingSubwordPrefix is { Length: > 0 } prefix && piece.StartsWith(prefix, StringComparison.Ordinal))
        {
            piece = piece[prefix.Length..];
        }

        if (bpe.EndOfWordSuffix is { Length: > 0 } suffix && piece.EndsWith(suffix, StringComparison.Ordinal))
        {
            piece = piece[..^suffix.Length];
        }

        foreach (char c in piece)
        {
            if (!ByteLevelText.IsStandIn(c))
            {
                return -1;
            }
        }

        return piece.Length > 0 ? piece.Length : -1;
    }

    private static int SentencePiece(EncodedToken token, SentencePieceTokenizer sp)
    {
        string value = token.Value;
        if (token.Id == sp.UnknownId || token.Id == sp.BeginningOfSentenceId || token.Id == sp.EndOfSentenceId
            || (sp.SpecialTokens is { } special && special.TryGetValue(value, out int id) && id == token.Id) || value.Length == 0)
        {
            return -1;
        }

        bool fallback = sp.ByteFallback && value.Length == 6 && value.StartsWith("<0x", StringComparison.Ordinal) && value[5] == '>'
            && Uri.IsHexDigit(value[3]) && Uri.IsHexDigit(value[4]);
        return fallback ? 1 : Encoding.UTF8.GetByteCount(value);
    }

    private static int[]? ReadTiktokenTable(string encoding)
    {
        var tokens = TiktokenTokens(encoding);
        if (tokens is null)
        {
            return null;
        }

        var bytes = new List<int>(1 << 17);
        foreach (var (token, rank) in tokens)
        {
            int length = (token.Length / 4 * 3) - (token.EndsWith("==", StringComparison.Ordinal) ? 2 : token.EndsWith('=') ? 1 : 0);
            while (bytes.Count <= rank)
            {
                bytes.Add(0);
            }

            bytes[rank] = length;
        }

        return [.. bytes];
    }

    /// <summary>A built-in encoding's table as a tiktoken file ("base64 rank" lines), for <see cref="TiktokenTokenizer.Create(Stream, PreTokenizer, Normalizer, IReadOnlyDictionary{string, int}, int)"/>; null where it cannot be read.</summary>
    internal static MemoryStream? TiktokenFile(string encoding)
    {
        var tokens = TiktokenTokens(encoding);
        if (tokens is null)
        {
            return null;
        }

        var file = new MemoryStream();
        using (var writer = new StreamWriter(file, Encoding.ASCII, leaveOpen: true))
        {
            foreach (var (token, rank) in tokens)
            {
                writer.Write(token);
                writer.Write(' ');
                writer.Write(rank.ToString(System.Globalization.CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        }

        file.Position = 0;
        return file;
    }

    /// <summary>
    /// A built-in encoding's tokens (base64) and ranks, read from the same embedded table
    /// (<c>Microsoft.ML.Tokenizers.Data.*</c>) the library's tokenizer is built from; null where it cannot be read.
    /// </summary>
    private static List<(string Token, int Rank)>? TiktokenTokens(string encoding)
    {
        string? assembly = encoding switch
        {
            "gpt2" => "Gpt2",
            "r50k_base" => "R50kBase",
            "cl100k_base" => "Cl100kBase",
            "o200k_base" => "O200kBase",
            _ => null,
        };
        if (assembly is null)
        {
            return null;
        }

        try
        {
            var data = Assembly.Load(new AssemblyName($"Microsoft.ML.Tokenizers.Data.{assembly}"));
            using var stream = data.GetManifestResourceStream($"{encoding}.tiktoken.deflate");
            if (stream is null)
            {
                return null;
            }

            using var reader = new StreamReader(new DeflateStream(stream, CompressionMode.Decompress), Encoding.ASCII);
            var tokens = new List<(string, int)>(1 << 17);
            int next = 0;
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                {
                    continue;
                }

                // "base64" (rank = its line among the tokens) or "base64 rank", as tiktoken files are.
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                string token = space < 0 ? line : line[..space];
                int rank = space < 0 ? next : int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
                if (token.Length == 0 || token.Length % 4 != 0 || rank < 0)
                {
                    return null;
                }

                tokens.Add((token, rank));
                next = rank + 1;
            }

            return tokens;
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or FormatException or OverflowException or InvalidDataException)
        {
            return null;
        }
    }
}
