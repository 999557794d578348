using System.Buffers;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json's <c>WordLevel</c> model (MIDI, game-record and other custom-trained language models), as
/// Hugging Face's encodes with one (<see cref="WordModelTokenizer"/>): each word the pre-tokenizer cuts
/// (<c>WhitespaceSplit</c>, <c>Whitespace</c>, ...) one token, its id in the vocabulary, else the unk_token's. A
/// word outside the vocabulary of a model whose unk_token it lacks is refused, as Hugging Face fails on it.
/// </summary>
public sealed class WordLevelTokenizer : WordModelTokenizer
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _pieces;

    /// <param name="unknownId">The unk_token's id, or -1 where the vocabulary lacks it.</param>
    internal WordLevelTokenizer(IReadOnlyList<KeyValuePair<string, int>> vocabulary, int unknownId, IReadOnlyDictionary<string, int> rawAdded,
        IReadOnlyDictionary<string, int> normalizedAdded, IEnumerable<KeyValuePair<string, int>> addedContents, HuggingFacePreTokenizer preTokenizer, AlignedNormalizer? normalizer)
        : base(rawAdded, normalizedAdded, addedContents, preTokenizer, normalizer)
    {
        _vocabulary = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        _lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _pieces = PiecesById(vocabulary);

        UnknownId = unknownId;
    }

    public override IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public int UnknownId { get; }

    private protected override void EncodeWord(string text, int from, int to, List<(int Id, string Piece, int From, int To)> output)
    {
        var word = text.AsSpan(from, to - from);
        int id = _lookup.TryGetValue(word, out int known) ? known
            : UnknownId >= 0 ? UnknownId
            : throw new UnencodableTextException(word.ToString(), "Hugging Face's tokenizer fails on it");
        output.Add((id, word.ToString(), from, to));
    }

    /// <summary>The pieces joined by spaces, as Hugging Face's WordLevel decodes without a decoder.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        WriteDecoded(ids, _pieces, null, destination, out idsConsumed, out charsWritten);
}
