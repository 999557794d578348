using System.Buffers;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json's <c>WordPiece</c> model (BERT and its kin), as Hugging Face's encodes with one
/// (<see cref="WordModelTokenizer"/>: typically BertNormalizer, then BertPreTokenizer): each word, from its start,
/// the longest piece of the vocabulary it begins with, then the longest that continues it (written with the
/// <c>continuing_subword_prefix</c>, "##"), and so on; a word with a place no piece fits, or of more than
/// <c>max_input_chars_per_word</c> code points, is one unk_token. Microsoft.ML's <c>WordPieceTokenizer</c>
/// reads a vocab.txt by line, where a tokenizer.json gives each piece its id, and counts a word's UTF-16 chars
/// against the limit where Hugging Face counts code points: a word of 60 emoji (120 chars) under the limit of 100
/// is 60 pieces here and in Hugging Face's, one unknown token in Microsoft.ML 3.0's (checked with a five-piece vocabulary).
/// </summary>
public sealed class HuggingFaceWordPieceTokenizer : WordModelTokenizer
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _pieces;
    private readonly (string Prefix, bool Cleanup)? _decoder;

    /// <param name="unknownToken">The unk_token, or null where the vocabulary lacks it (a word that needs it is then refused, as Hugging Face fails on it).</param>
    /// <param name="decoder">The WordPiece decoder's prefix and cleanup flag, or null: pieces joined by spaces.</param>
    internal HuggingFaceWordPieceTokenizer(IReadOnlyList<KeyValuePair<string, int>> vocabulary, string? unknownToken, string continuingSubwordPrefix,
        int maxInputCharsPerWord, IReadOnlyDictionary<string, int> rawAdded, IReadOnlyDictionary<string, int> normalizedAdded,
        IEnumerable<KeyValuePair<string, int>> addedContents, HuggingFacePreTokenizer preTokenizer, AlignedNormalizer? normalizer, (string Prefix, bool Cleanup)? decoder)
        : base(rawAdded, normalizedAdded, addedContents, preTokenizer, normalizer)
    {
        _vocabulary = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        _lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _pieces = PiecesById(vocabulary);

        UnknownToken = unknownToken is not null && _vocabulary.ContainsKey(unknownToken) ? unknownToken : null;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        _decoder = decoder;
    }

    public override IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    /// <summary>The unk_token, or null where the vocabulary lacks it.</summary>
    public string? UnknownToken { get; }

    public string ContinuingSubwordPrefix { get; }

    /// <summary>The most code points a word may have; a longer one is the unk_token.</summary>
    public int MaxInputCharsPerWord { get; }

    private protected override void EncodeWord(string text, int from, int to, List<(int Id, string Piece, int From, int To)> output)
    {
        var word = text.AsSpan(from, to - from);
        int first = output.Count;
        if (CodePoints(word) <= MaxInputCharsPerWord)
        {
            // Each candidate continuation is looked up with the prefix before it, in one buffer.
            string prefix = ContinuingSubwordPrefix;
            char[] rented = ArrayPool<char>.Shared.Rent(prefix.Length + word.Length);
            prefix.CopyTo(rented);
            try
            {
                for (int start = 0; start < word.Length;)
                {
                    int end = word.Length, id = -1;
                    while (end > start)
                    {
                        var candidate = start == 0 ? word[..end] : Continuation(rented, prefix.Length, word[start..end]);
                        if (_lookup.TryGetValue(candidate, out id))
                        {
                            break;
                        }

                        id = -1;
                        end -= end - start >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
                    }

                    if (id < 0)
                    {
                        output.RemoveRange(first, output.Count - first);
                        break;
                    }

                    output.Add((id, _pieces[id], from + start, from + end));
                    start = end;
                }
            }
            finally
            {
                ArrayPool<char>.Shared.Return(rented);
            }

            if (output.Count > first)
            {
                return;
            }
        }

        // Too long, or a place no piece fits: the whole word is unknown.
        output.Add(UnknownToken is { } unknown ? (_vocabulary[unknown], unknown, from, to)
            : throw new UnencodableTextException(word.ToString(), "Hugging Face's tokenizer fails on it"));
    }

    private static ReadOnlySpan<char> Continuation(char[] buffer, int prefixLength, ReadOnlySpan<char> rest)
    {
        rest.CopyTo(buffer.AsSpan(prefixLength));
        return buffer.AsSpan(0, prefixLength + rest.Length);
    }

    private static int CodePoints(ReadOnlySpan<char> text)
    {
        int count = text.Length;
        for (int i = 1; i < text.Length; i++)
        {
            count -= char.IsLowSurrogate(text[i]) && char.IsHighSurrogate(text[i - 1]) ? 1 : 0;
        }

        return count;
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        WriteDecoded(ids, _pieces, _decoder, destination, out idsConsumed, out charsWritten);
}
