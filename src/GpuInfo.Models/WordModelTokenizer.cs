using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json tokenizer whose model encodes each word the pre-tokenizer cuts on its own
/// (<see cref="WordLevelTokenizer"/>, <see cref="HuggingFaceWordPieceTokenizer"/>), run as Hugging Face's
/// tokenizers runs one: the added tokens its normalizer does not see (<c>normalized</c> false: BERT's
/// <c>[CLS]</c>, <c>[SEP]</c>, ...) found in the text as given; each run of text between them normalized
/// (<see cref="AlignedNormalizer"/>); the added tokens it sees found in the normalized run; the rest cut by the
/// pre-tokenizer's steps; each word encoded by the model. Tokens point into the text as given wherever the
/// normalizer keeps track, else into the normalized text, which then comes back as such.
/// </summary>
public abstract class WordModelTokenizer : Tokenizer
{
    private readonly AddedTokenMatcher _raw;
    private readonly IReadOnlyDictionary<string, int> _normalizedAdded;
    private readonly HuggingFacePreTokenizer _preTokenizer;
    private readonly AlignedNormalizer? _normalizer;

    /// <param name="rawAdded">Added tokens found in the text as given.</param>
    /// <param name="normalizedAdded">Added tokens found in the normalized text, by their normalized content: <paramref name="preTokenizer"/> splits them off first.</param>
    /// <param name="addedContents">Every added token as written, for decoding.</param>
    private protected WordModelTokenizer(IReadOnlyDictionary<string, int> rawAdded, IReadOnlyDictionary<string, int> normalizedAdded,
        IEnumerable<KeyValuePair<string, int>> addedContents, HuggingFacePreTokenizer preTokenizer, AlignedNormalizer? normalizer)
    {
        AddedContents = [.. addedContents];
        _raw = new AddedTokenMatcher(rawAdded);
        _normalizedAdded = normalizedAdded;
        SpecialTokens = new Dictionary<string, int>(rawAdded.Concat(normalizedAdded).DistinctBy(kv => kv.Key), StringComparer.Ordinal);
        _preTokenizer = preTokenizer;
        _normalizer = normalizer;
    }

    /// <summary>Each added token as written, with its id.</summary>
    private protected IReadOnlyList<KeyValuePair<string, int>> AddedContents { get; }

    /// <summary>The piece of each id, as Hugging Face decodes it: an added token's content, else the vocabulary's piece.</summary>
    private protected string[] PiecesById(IReadOnlyList<KeyValuePair<string, int>> vocabulary)
    {
        var pieces = new string[Math.Max(TokenizerCatalog.MaxId(vocabulary), TokenizerCatalog.MaxId(AddedContents)) + 1];
        foreach (var (piece, id) in AddedContents.Concat(vocabulary))
        {
            pieces[id] ??= piece;
        }

        return pieces;
    }

    /// <summary>The model's pieces, each with its id.</summary>
    public abstract IReadOnlyDictionary<string, int> Vocabulary { get; }

    /// <summary>The added tokens, each with its id (one found in the normalized text by its normalized content).</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    public override Normalizer? Normalizer => _normalizer;

    public override PreTokenizer? PreTokenizer => _preTokenizer;

    /// <summary>
    /// Encodes the word <paramref name="text"/>[<paramref name="from"/>, <paramref name="to"/>) into <paramref name="output"/>: each token's id,
    /// piece and chars of <paramref name="text"/>.
    /// </summary>
    /// <exception cref="UnencodableTextException">The word needs an unk_token that the vocabulary lacks.</exception>
    private protected abstract void EncodeWord(string text, int from, int to, List<(int Id, string Piece, int From, int To)> output);

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (settings.MaxTokenCount != int.MaxValue)
        {
            throw new NotSupportedException($"{GetType().Name} encodes whole texts: a maximum token count is not supported.");
        }

        string source = text ?? textSpan.ToString();

        // Each token's chars in the normalized text, and (where the normalizer kept track) in the text as given.
        var found = new List<(int Id, string Piece, int NormalizedFrom, int NormalizedTo, int From, int To)>();
        var normalized = new StringBuilder(_normalizer is null ? 0 : source.Length);
        var words = new List<(int Id, string Piece, int From, int To)>();
        bool aligned = true;
        int start = 0;
        while (true)
        {
            var (at, length, id) = _raw.Next(source, start);
            int end = at < 0 ? source.Length : at;
            if (end > start)
            {
                var run = _normalizer?.Apply(source[start..end], track: true) ?? new AlignedText(source[start..end], null, null);
                aligned &= _normalizer is null || run.Aligned;
                words.Clear();
                foreach (var (offset, count) in _preTokenizer.PreTokenize(run.Text))
                {
                    if (_normalizedAdded.Count > 0 && _normalizedAdded.TryGetValue(run.Text.Substring(offset, count), out int added))
                    {
                        words.Add((added, run.Text.Substring(offset, count), offset, offset + count));
                    }
                    else
                    {
                        EncodeWord(run.Text, offset, offset + count, words);
                    }
                }

                foreach (var (wordId, piece, from, to) in words)
                {
                    var (originalFrom, originalTo) = _normalizer is not null && run.Aligned ? run.Span(from, to) : (from, to);
                    found.Add((wordId, piece, normalized.Length + from, normalized.Length + to, start + originalFrom, start + originalTo));
                }

                if (_normalizer is not null)
                {
                    normalized.Append(run.Text);
                }
            }

            if (at < 0)
            {
                break;
            }

            found.Add((id, source.Substring(at, length), normalized.Length, normalized.Length + length, at, at + length));
            if (_normalizer is not null)
            {
                normalized.Append(source, at, length);
            }

            start = at + length;
        }

        var tokens = found.Select(f => new EncodedToken(f.Id, f.Piece, aligned ? new Range(f.From, f.To) : new Range(f.NormalizedFrom, f.NormalizedTo))).ToList();
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = aligned ? null : normalized.ToString(), CharsConsumed = source.Length };
    }

    /// <summary>
    /// The pieces of <paramref name="ids"/> (ids outside <paramref name="pieces"/> passed over) as Hugging Face decodes them: joined by
    /// spaces, or by a WordPiece decoder (<paramref name="wordPiece"/>): a piece after the first that begins with its prefix
    /// joined to the one before without it, any other after a space, each then cleaned up where it says (" ." to ".",
    /// " n't" to "n't", ...).
    /// </summary>
    private protected static OperationStatus WriteDecoded(IEnumerable<int> ids, string[] pieces, (string Prefix, bool Cleanup)? wordPiece,
        Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var given = ids as IReadOnlyCollection<int> ?? [.. ids];
        var decoded = new StringBuilder();
        int i = 0;
        foreach (int id in given)
        {
            if (id < 0 || id >= pieces.Length || pieces[id] is not { } piece)
            {
                continue;
            }

            string part = wordPiece is not { } decoder ? (i == 0 ? piece : " " + piece)
                : i == 0 ? piece
                : piece.StartsWith(decoder.Prefix, StringComparison.Ordinal) ? piece[decoder.Prefix.Length..]
                : " " + piece;
            decoded.Append(wordPiece is { Cleanup: true } ? CleanUp(part) : part);
            i++;
        }

        return PieceDecoder.Write(decoded.ToString(), given.Count, destination, out idsConsumed, out charsWritten);
    }

    /// <summary>Hugging Face's <c>cleanup</c> of decoded text: spaces before punctuation and English contractions taken out.</summary>
    private static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal).Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal).Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" do not", " don't", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);
}
