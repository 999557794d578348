using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// The UTF-8 bytes of text each token stands for, from the tokenizer's offsets (char ranges of the
/// text). Each token gets the bytes of the text from the end of what the tokens before it covered to
/// the end of its own range, and the last token also takes any text after it, so the counts sum to the
/// text's UTF-8 length exactly. Where byte-level BPE splits one character over several tokens, the
/// offsets of all of them cover the whole character: the first takes its bytes, the others none.
/// </summary>
internal static class TokenBytes
{
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
}
