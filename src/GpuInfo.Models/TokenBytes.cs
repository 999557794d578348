using System.Text;

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
        int covered = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            int end = i == ends.Length - 1 ? text.Length : Math.Clamp(ends[i], covered, text.Length);
            if (end > 0 && end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]))
            {
                end++;
            }

            bytes[i] = Encoding.UTF8.GetByteCount(text.AsSpan(covered, end - covered));
            covered = end;
        }

        return bytes;
    }

    /// <summary>
    /// Bytes per token from the pieces where they are byte-exact, else from the offsets (see the remarks
    /// of <see cref="TokenBytes"/>).
    /// </summary>
    /// <param name="ends">The end (exclusive, in chars) of each token's range in <paramref name="text"/>.</param>
    /// <param name="pieces">The bytes each token's piece encodes, or -1 where the tokenizer does not say.</param>
    public static int[] FromPieces(string text, ReadOnlySpan<int> ends, ReadOnlySpan<int> pieces)
    {
        var offsets = FromOffsets(text, ends);
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

    /// <summary>The words (maximal runs of non-whitespace) that begin in each token, given its bytes of <paramref name="text"/>.</summary>
    /// <param name="bytes">Each token's UTF-8 bytes of the text, in order; they sum to its UTF-8 length.</param>
    public static int[] Words(string text, ReadOnlySpan<int> bytes)
    {
        var words = new int[bytes.Length];
        if (bytes.Length == 0)
        {
            return words;
        }

        int token = 0;
        long position = 0, tokenEnd = bytes[0];
        bool inWord = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool space = IsSpace(c);
            if (!space && !inWord)
            {
                while (tokenEnd <= position && token < bytes.Length - 1)
                {
                    tokenEnd += bytes[++token];
                }

                words[token]++;
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

        return words;
    }

    /// <summary>Python's <c>\s</c> (str.isspace): .NET's white space and the separators U+001C to U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';
}
