using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// The UTF-8 bytes of text each token stands for (for bits per byte), and the words of text each
/// token begins (for word perplexity). The counts sum to the text's UTF-8 length and to its words
/// exactly, whatever the tokenizer.
/// </summary>
/// <remarks>
/// <para>
/// Where the tokenizer's pieces say which bytes a token encodes (<see cref="TokenPieces"/>), each
/// token gets those: a byte-level BPE token one byte per char of its mapped string, a tiktoken token
/// the bytes of its entry in the encoding's table, a SentencePiece byte-fallback piece (<c>&lt;0xNN&gt;</c>)
/// one byte. So a character split over tokens counts with each the bytes it holds ('é' as the byte-level
/// tokens C3 and A9: 1 and 1), and a token scored without the one before it still counts its own byte.
/// </para>
/// <para>
/// Elsewhere (special and unknown tokens, a tokenizer that gives no byte-exact pieces: a
/// <see cref="TextTokenizer"/> made from another <c>Microsoft.ML.Tokenizers</c> tokenizer) the bytes
/// come from the tokenizer's offsets, char ranges of the text: a token gets the text from the end of
/// what the tokens before it covered to the end of its own range, and the last token also takes any
/// text after it. There a character split over tokens counts wholly with the first of them, the others
/// none. The pieces' counts are taken over a run of tokens only where they add up to what the offsets
/// give for the run (a run ends where both agree, at a character boundary), so a piece that is not
/// the text's bytes (a tokenizer that changed the text) falls back to the offsets and the sum stays exact.
/// </para>
/// <para>
/// A word is a maximal run of characters that are not whitespace (Python's <c>\s</c>: .NET's white
/// space and U+001C to U+001F), as the pieces of lm-evaluation-harness's <c>re.split(r"\s+", text)</c>;
/// it belongs to the token that holds the first byte of its first character.
/// </para>
/// </remarks>
internal static class TokenBytes
{
    /// <summary>Bytes per token from the offsets alone (the fallback rule).</summary>
    /// <param name="ends">The end (exclusive, in chars) of each token's range in <paramref name="text"/>.</param>
    public static int[] FromOffsets(string text, ReadOnlySpan<int> ends)
    {
        var bytes = new int[ends.Length];
        OffsetsInto(text, ends, 0, ends.Length, 0, bytes);
        return bytes;
    }

    /// <summary>The offsets' bytes of tokens [<paramref name="first"/>, <paramref name="end"/>), the text before them covered up to <paramref name="covered"/>.</summary>
    private static void OffsetsInto(string text, ReadOnlySpan<int> ends, int first, int end, int covered, Span<int> bytes)
    {
        for (int i = first; i < end; i++)
        {
            int to = i == ends.Length - 1 ? text.Length : Covered(text, Math.Max(covered, Math.Min(ends[i], text.Length)));
            bytes[i] = Encoding.UTF8.GetByteCount(text.AsSpan(covered, to - covered));
            covered = to;
        }
    }

    /// <summary>An end moved past the low half of a surrogate pair it would split.</summary>
    private static int Covered(string text, int end) =>
        end > 0 && end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]) ? end + 1 : end;

    /// <summary>
    /// Bytes per token from the pieces where they are byte-exact, else from the offsets (see the remarks
    /// of <see cref="TokenBytes"/>).
    /// </summary>
    /// <param name="ends">The end (exclusive, in chars) of each token's range in <paramref name="text"/>.</param>
    /// <param name="pieces">The bytes each token's piece encodes, or -1 where the tokenizer does not say.</param>
    /// <param name="parts">Where the text was encoded in parts: the offsets' bytes are counted a part per worker.</param>
    public static int[] FromPieces(string text, int[] ends, ReadOnlySpan<int> pieces, TextParts? parts = null)
    {
        // Every piece known and together the text's bytes: each run below would close on the pieces' counts.
        if (!pieces.ContainsAnyInRange(int.MinValue, -1) && Sum(pieces) == Encoding.UTF8.GetByteCount(text))
        {
            return pieces.ToArray();
        }

        var offsets = parts is null ? FromOffsets(text, ends) : FromOffsets(text, ends, parts);
        var bytes = new int[offsets.Length];
        long byOffsets = 0, byPieces = 0;
        int run = 0;
        for (int i = 0; i < offsets.Length; i++)
        {
            byOffsets += offsets[i];
            byPieces += pieces[i] >= 0 ? pieces[i] : offsets[i];
            if (byPieces == byOffsets)
            {
                // The run [run, i] ends on a boundary both agree on: its counts, as summed, add up to the offsets'.
                for (int j = run; j <= i; j++)
                {
                    bytes[j] = pieces[j] >= 0 ? pieces[j] : offsets[j];
                }

                run = i + 1;
            }
        }

        // A run the pieces never brought back to the offsets' count: the offsets, so the sum stays exact.
        offsets.AsSpan(run).CopyTo(bytes.AsSpan(run));
        return bytes;
    }

    private static long Sum(ReadOnlySpan<int> values)
    {
        long sum = 0;
        foreach (int value in values)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>
    /// <see cref="FromOffsets(string, ReadOnlySpan{int})"/> a part per worker. A token's range starts
    /// where the ones before it covered the text to, the running maximum of their ends (each moved off
    /// a surrogate pair's middle), so each part starts from the largest end of the parts before it.
    /// </summary>
    private static int[] FromOffsets(string text, int[] ends, TextParts parts)
    {
        var bytes = new int[ends.Length];
        int count = parts.FirstTokens.Count;
        var reach = new int[count];
        parts.ForEach(count, k =>
        {
            int last = parts.EndToken(k, ends.Length), most = 0;
            for (int i = parts.FirstTokens[k]; i < last; i++)
            {
                most = Math.Max(most, Covered(text, Math.Min(ends[i], text.Length)));
            }

            reach[k] = most;
        });
        var covered = new int[count];
        for (int k = 1; k < count; k++)
        {
            covered[k] = Math.Max(covered[k - 1], reach[k - 1]);
        }

        parts.ForEach(count, k => OffsetsInto(text, ends, parts.FirstTokens[k], parts.EndToken(k, ends.Length), covered[k], bytes));
        return bytes;
    }

    /// <summary>The words (maximal runs of non-whitespace) that begin in each token, given its bytes of <paramref name="text"/>.</summary>
    /// <param name="bytes">Each token's UTF-8 bytes of the text, in order; they sum to its UTF-8 length.</param>
    /// <param name="parts">Where the text was encoded in parts: counted a part of the text per worker.</param>
    public static int[] Words(string text, int[] bytes, TextParts? parts = null)
    {
        var words = new int[bytes.Length];
        if (bytes.Length == 0)
        {
            return words;
        }

        if (parts is null)
        {
            CountWords(text, 0, text.Length, bytes, 0, 0, bytes[0], words, atomic: false);
            return words;
        }

        // Each part starts at its first character's byte, with the token that holds that byte: the first whose bytes end after it.
        var chars = parts.Chars;
        var starts = new long[chars.Count];
        parts.ForEach(chars.Count, k => starts[k] = Encoding.UTF8.GetByteCount(text.AsSpan(chars[k].Start, chars[k].End - chars[k].Start)));
        long position = 0;
        for (int k = 0; k < chars.Count; k++)
        {
            (starts[k], position) = (position, position + starts[k]);
        }

        var tokens = new int[chars.Count];
        var tokenEnds = new long[chars.Count];
        int token = 0;
        long tokenEnd = bytes[0];
        for (int k = 0; k < chars.Count; k++)
        {
            while (tokenEnd <= starts[k] && token < bytes.Length - 1)
            {
                tokenEnd += bytes[++token];
            }

            (tokens[k], tokenEnds[k]) = (token, tokenEnd);
        }

        parts.ForEach(chars.Count, k => CountWords(text, chars[k].Start, chars[k].End, bytes, tokens[k], starts[k], tokenEnds[k], words, atomic: true));
        return words;
    }

    /// <summary>The sequential count over chars [<paramref name="from"/>, <paramref name="to"/>), from a byte <paramref name="position"/> inside <paramref name="token"/>, which ends at <paramref name="tokenEnd"/>.</summary>
    private static void CountWords(string text, int from, int to, int[] bytes, int token, long position, long tokenEnd, int[] words, bool atomic)
    {
        bool inWord = from > 0 && !IsSpace(text[from - 1]);
        for (int i = from; i < to; i++)
        {
            char c = text[i];
            bool space = IsSpace(c);
            if (!space && !inWord)
            {
                while (tokenEnd <= position && token < bytes.Length - 1)
                {
                    tokenEnd += bytes[++token];
                }

                if (atomic)
                {
                    Interlocked.Increment(ref words[token]); // a token's bytes may reach into the next part
                }
                else
                {
                    words[token]++;
                }
            }

            inWord = !space;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                position += 4;
                i++;
            }
            else
            {
                position += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a lone surrogate is written as U+FFFD, 3 bytes
            }
        }
    }

    /// <summary>Which of lm-evaluation-harness's word-count edges <paramref name="text"/> has (<see cref="TokenizedText.WordEdges"/>, a <see cref="TokenizedCorpusFile"/>'s <c>document_edges</c>): 1 where it begins with white space, 2 where it ends with it.</summary>
    public static byte WordEdges(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? (byte)0 : (byte)((IsSpace(text[0]) ? 1 : 0) | (IsSpace(text[^1]) ? 2 : 0));
    }

    /// <summary>
    /// lm-evaluation-harness's <c>count_words</c>, <c>len(re.split(r"\s+", text))</c>, counts an empty piece
    /// for white space at a text's start and one at its end: they go to its first and last tokens.
    /// </summary>
    internal static void AddWordEdges(Span<int> textWords, byte edges)
    {
        if (textWords.Length > 0)
        {
            textWords[0] += edges & 1;
            textWords[^1] += edges >> 1 & 1;
        }
    }

    /// <summary>The words of <paramref name="text"/>: its maximal runs of characters that are not white space (without lm-evaluation-harness's edges).</summary>
    public static long CountWords(string text)
    {
        long words = 0;
        bool inWord = false;
        foreach (char c in text)
        {
            bool space = IsSpace(c);
            words += !space && !inWord ? 1 : 0;
            inWord = !space;
        }

        return words;
    }

    /// <summary>
    /// Makes <paramref name="counts"/> sum to <paramref name="total"/>: what they lack goes to the last, what they have
    /// over is taken from the last back (counts of a text scored as another one, <see cref="TextTokenizer.Encode"/>'s countsOf).
    /// </summary>
    /// <exception cref="InvalidFileException">A count over int range.</exception>
    internal static void Settle(Span<int> counts, long total, string name)
    {
        long missing = total - Sum(counts);
        if (missing >= 0)
        {
            long last = counts[^1] + missing;
            counts[^1] = last <= int.MaxValue ? (int)last : throw new InvalidFileException(name, $"counts {last} bytes or words for one token, more than can be held.");
            return;
        }

        for (int i = counts.Length - 1; i >= 0 && missing < 0; i--)
        {
            int taken = (int)Math.Min(counts[i], -missing);
            counts[i] -= taken;
            missing += taken;
        }
    }

    /// <summary>Python's <c>\s</c> (str.isspace): .NET's white space and the separators U+001C to U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';
}

/// <summary>
/// A text encoded in parts (<see cref="TextTokenizer"/>'s pieces, cut after a line break): each part's
/// chars, the index of its first token, and a way to run one call per part on several workers.
/// </summary>
internal sealed record TextParts(IReadOnlyList<(int Start, int End)> Chars, IReadOnlyList<int> FirstTokens, Action<int, Action<int>> ForEach)
{
    /// <summary>The end (exclusive) of part <paramref name="k"/>'s tokens.</summary>
    public int EndToken(int k, int tokens) => k + 1 < FirstTokens.Count ? FirstTokens[k + 1] : tokens;
}
