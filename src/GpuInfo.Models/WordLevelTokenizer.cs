using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json's <c>WordLevel</c> model (MIDI, game-record and other custom-trained language models), as
/// Hugging Face's encodes with one: the text normalized (<see cref="AlignedNormalizer"/>), cut by the
/// pre-tokenizer (special tokens first, then its steps: <c>WhitespaceSplit</c>, <c>Whitespace</c>, ...), and each
/// piece one token: a special token's id, else the piece's id in the vocabulary, else the unk_token's. A
/// piece outside the vocabulary of a model whose unk_token it lacks is refused, as Hugging Face fails on it.
/// Offsets point into the text as given wherever the normalizer keeps track.
/// </summary>
public sealed class WordLevelTokenizer : Tokenizer
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly string[] _pieces;
    private readonly HuggingFacePreTokenizer _preTokenizer;
    private readonly AlignedNormalizer? _normalizer;

    /// <param name="unknownId">The unk_token's id, or -1 where the vocabulary lacks it.</param>
    internal WordLevelTokenizer(IReadOnlyList<KeyValuePair<string, int>> vocabulary, int unknownId, IReadOnlyDictionary<string, int> specialTokens,
        HuggingFacePreTokenizer preTokenizer, AlignedNormalizer? normalizer)
    {
        _vocabulary = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        _pieces = new string[Math.Max(TokenizerCatalog.MaxId(vocabulary), TokenizerCatalog.MaxId(specialTokens)) + 1];
        foreach (var (piece, id) in vocabulary.Concat(specialTokens))
        {
            _pieces[id] ??= piece;
        }

        UnknownId = unknownId;
        SpecialTokens = new Dictionary<string, int>(specialTokens, StringComparer.Ordinal);
        _preTokenizer = preTokenizer;
        _normalizer = normalizer;
    }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    public int UnknownId { get; }

    public override Normalizer? Normalizer => _normalizer;

    public override PreTokenizer? PreTokenizer => _preTokenizer;

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (settings.MaxTokenCount != int.MaxValue)
        {
            throw new NotSupportedException("WordLevelTokenizer encodes whole texts: a maximum token count is not supported.");
        }

        string given = text ?? textSpan.ToString();
        var normalized = _normalizer?.Apply(given, track: true) ?? AlignedText.Of(given, track: false);
        bool aligned = _normalizer is null || normalized.Aligned;
        var tokens = new List<EncodedToken>();
        foreach (var (offset, length) in _preTokenizer.PreTokenize(normalized.Text))
        {
            string piece = normalized.Text.Substring(offset, length);
            int id = SpecialTokens.TryGetValue(piece, out int special) ? special
                : _vocabulary.TryGetValue(piece, out int known) ? known
                : UnknownId >= 0 ? UnknownId
                : throw new UnencodableTextException(piece, "Hugging Face's tokenizer fails on it");
            var (from, to) = _normalizer is not null && normalized.Aligned ? normalized.Span(offset, offset + length) : (offset, offset + length);
            tokens.Add(new EncodedToken(id, piece, new Range(from, to)));
        }

        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = aligned ? null : normalized.Text, CharsConsumed = given.Length };
    }

    /// <summary>The pieces joined by spaces, as Hugging Face's WordLevel decodes without a decoder.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var given = ids as IReadOnlyCollection<int> ?? [.. ids];
        var words = given.Where(id => id >= 0 && id < _pieces.Length && _pieces[id] is not null).Select(id => _pieces[id]).ToList();
        string decoded = string.Join(' ', words);
        if (decoded.Length > destination.Length)
        {
            (idsConsumed, charsWritten) = (0, 0);
            return OperationStatus.DestinationTooSmall;
        }

        decoded.AsSpan().CopyTo(destination);
        (idsConsumed, charsWritten) = (given.Count, decoded.Length);
        return OperationStatus.Done;
    }
}
