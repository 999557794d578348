using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A BPE whose text gpuinfo cuts into pieces itself (<see cref="HuggingFacePreTokenizer.Pieces"/>), each then merged by
/// Microsoft.ML's BPE as characters, where Microsoft.ML's own pre-tokenization or merges cannot follow the file:
/// <list type="bullet">
///   <item><description>a byte-level BPE whose pre-tokenizer has steps after its ByteLevel (Falcon's Digits), which cut the
///   text's UTF-8 bytes, inside a character too ("в" stands as "Ð²", and Digits cuts before the "²"), as Hugging Face's
///   does: each piece is merged as the byte stand-ins it holds (Microsoft.ML maps whole characters only), so a token may
///   hold part of a character. A token's bytes are its piece's stand-ins; its offsets span the characters it touches,
///   its end at the last character it completes;</description></item>
///   <item><description>a character-level BPE whose pieces hold spaces (merges such as [" ", " "], which Microsoft.ML's
///   "left right" merges cannot name): <see cref="SpaceStandIn"/>, U+FFFF, takes the space's place in its vocabulary,
///   merges and each piece.</description></item>
/// </list>
/// </summary>
public sealed class PieceBpeTokenizer : Tokenizer
{
    /// <summary>What stands for a space in the pieces of a character-level model (a noncharacter, which no text should hold).</summary>
    public const char SpaceStandIn = '\uFFFF';

    private readonly HuggingFacePreTokenizer _preTokenizer;
    private readonly AlignedNormalizer? _normalizer;
    private readonly string[] _pieces;

    /// <param name="bpe">The model over the pieces' characters (byte stand-ins, or characters with <see cref="SpaceStandIn"/> for spaces): ByteLevel off, no pre-tokenizer that splits (each piece is merged whole).</param>
    /// <param name="byteLevel">Whether the pieces are merged as their bytes' stand-ins, else as their characters.</param>
    internal PieceBpeTokenizer(BpeTokenizer bpe, bool byteLevel, IReadOnlyDictionary<string, int> specialTokens, HuggingFacePreTokenizer preTokenizer, AlignedNormalizer? normalizer)
    {
        Bpe = bpe;
        ByteLevel = byteLevel;
        SpecialTokens = specialTokens;
        _preTokenizer = preTokenizer;
        _normalizer = normalizer;
        _pieces = new string[Math.Max(TokenizerCatalog.MaxId(bpe.Vocabulary), TokenizerCatalog.MaxId(specialTokens)) + 1];
        foreach (var (piece, id) in specialTokens.Concat(bpe.Vocabulary))
        {
            _pieces[id] ??= byteLevel ? piece : piece.Replace(SpaceStandIn, ' ');
        }
    }

    /// <summary>The BPE that merges each piece's characters.</summary>
    public BpeTokenizer Bpe { get; }

    /// <summary>Whether the pieces are merged as their UTF-8 bytes' stand-ins (a byte-level model), else as their characters.</summary>
    public bool ByteLevel { get; }

    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    public override Normalizer? Normalizer => _normalizer;

    public override PreTokenizer? PreTokenizer => _preTokenizer;

    /// <summary>Whether <paramref name="token"/> is one of the special tokens (which stand for no bytes of the text).</summary>
    public bool IsSpecial(EncodedToken token) => SpecialTokens.TryGetValue(token.Value, out int id) && id == token.Id;

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (settings.MaxTokenCount != int.MaxValue)
        {
            throw new NotSupportedException("PieceBpeTokenizer encodes whole texts: a maximum token count is not supported.");
        }

        string given = text ?? textSpan.ToString();
        var normalized = _normalizer?.Apply(given, track: true) ?? new AlignedText(given, null, null);
        bool aligned = _normalizer is null || normalized.Aligned;
        string s = normalized.Text;
        var tokens = new List<EncodedToken>();
        foreach (var piece in _preTokenizer.Pieces(s))
        {
            if (piece.Special)
            {
                string content = s.Substring(piece.Offset, piece.Length);
                tokens.Add(new EncodedToken(SpecialTokens[content], content, Original(normalized, aligned, piece.Offset, piece.Offset + piece.Length)));
                continue;
            }

            if (!ByteLevel)
            {
                string chars = s.Substring(piece.Offset, piece.Length);
                if (chars.Contains(SpaceStandIn))
                {
                    throw new UnencodableTextException(SpaceStandIn.ToString(), "", "a noncharacter gpuinfo stands for the model's spaces (its pieces hold spaces, which Microsoft.ML's merges cannot name), so it cannot encode it");
                }

                foreach (var token in Bpe.EncodeToTokens(chars.Replace(' ', SpaceStandIn), out _))
                {
                    var (from, to) = (piece.Offset + token.Offset.Start.Value, piece.Offset + token.Offset.End.Value);
                    tokens.Add(new EncodedToken(token.Id, token.Value.Replace(SpaceStandIn, ' '), Original(normalized, aligned, from, to)));
                }

                continue;
            }

            var (stand, starts) = ByteLevelText.Read(s, piece.Offset, piece.Length);
            string bytes = piece.Whole ? stand : stand[piece.Head..^piece.Tail];
            foreach (var token in Bpe.EncodeToTokens(bytes, out _))
            {
                // The token's bytes [from, to) of the piece's characters, as chars: from the character its first byte is in, to the end of the last one it completes.
                int from = piece.Head + token.Offset.Start.Value, to = piece.Head + token.Offset.End.Value;
                int first = CharAt(starts, from), last = CharAt(starts, to);
                tokens.Add(new EncodedToken(token.Id, token.Value, Original(normalized, aligned, piece.Offset + first, piece.Offset + Math.Max(first, last))));
            }
        }

        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = aligned ? null : s, CharsConsumed = given.Length };
    }

    /// <summary>The char (of the piece) at or before byte <paramref name="at"/> where a character starts (<paramref name="starts"/>: -1 inside one; null: one byte a char).</summary>
    private static int CharAt(int[]? starts, int at)
    {
        if (starts is null)
        {
            return at;
        }

        while (starts[at] < 0)
        {
            at--;
        }

        return starts[at];
    }

    /// <summary>The chars [<paramref name="from"/>, <paramref name="to"/>) of the normalized text, in the text as given where the normalizer kept track.</summary>
    private static Range Original(AlignedText normalized, bool aligned, int from, int to)
    {
        var (start, end) = aligned && normalized.Aligned ? normalized.Span(from, to) : (from, to);
        return new Range(start, end);
    }

    /// <summary>The ids' pieces as text, joined: a byte-level model's stand-ins as the bytes they stand for, read as UTF-8 (a character split over tokens comes back whole where they are together), special tokens as written.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var given = ids as IReadOnlyCollection<int> ?? [.. ids];
        var decoded = new StringBuilder();
        var bytes = new List<byte>();
        foreach (int id in given)
        {
            if (id < 0 || id >= _pieces.Length || _pieces[id] is not { } piece)
            {
                continue;
            }

            if (!ByteLevel || SpecialTokens.ContainsKey(piece) || !piece.All(ByteLevelText.IsStandIn))
            {
                decoded.Append(Encoding.UTF8.GetString([.. bytes])).Append(piece);
                bytes.Clear();
                continue;
            }

            bytes.AddRange(piece.Select(ByteLevelText.ByteOf));
        }

        decoded.Append(Encoding.UTF8.GetString([.. bytes]));
        return PieceDecoder.Write(decoded.ToString(), given.Count, destination, out idsConsumed, out charsWritten);
    }
}
