namespace GpuInfo.Models;

/// <summary>
/// The character classes of Hugging Face's tokenizers library (BERT's normalizer and pre-tokenizer, Punctuation,
/// StripAccents, UnicodeScripts): its tables predate Unicode 9, so a class is read from them (<c>HuggingFaceCharacters.g.cs</c>,
/// written from the library itself by <c>tests/GpuInfo.Tests/Models/make_character_classes.mjs</c>) and not
/// from .NET's current categories, which hold some 600 code points more.
/// </summary>
internal static partial class HuggingFaceCharacters
{
    /// <summary>Whether BertNormalizer's <c>clean_text</c> drops <paramref name="codePoint"/> (a control, format or private-use character, U+0000, U+FFFD).</summary>
    public static bool CleanTextRemoves(int codePoint) => In(CleanTextRemovesRanges, codePoint);

    /// <summary>Whether <c>strip_accents</c> drops <paramref name="codePoint"/>, a code point of an NFD text (a nonspacing mark).</summary>
    public static bool IsNonspacingMark(int codePoint) => codePoint >= 0x300 && In(NonspacingMarkRanges, codePoint);

    /// <summary>Whether BertPreTokenizer and the Punctuation pre-tokenizer read <paramref name="codePoint"/> as punctuation.</summary>
    public static bool IsPunctuation(int codePoint) => codePoint < 0x80
        ? codePoint is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~')
        : In(PunctuationRanges, codePoint);

    /// <summary>Whether <c>StripAccents</c> drops <paramref name="codePoint"/> (a combining mark: Mn, Mc, Me).</summary>
    public static bool IsCombiningMark(int codePoint) => codePoint >= 0x300 && In(CombiningMarkRanges, codePoint);

    /// <summary>
    /// Whether <paramref name="codePoint"/> is one of the CJK ideographs BertNormalizer's <c>handle_chinese_chars</c>
    /// puts spaces around: the CJK Unified Ideographs, their extensions A to D and E from U+2B920 (the library leaves U+2B820 to
    /// U+2B91F out), and the compatibility ideographs.
    /// </summary>
    public static bool IsChinese(int codePoint) => codePoint is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF)
        or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
        or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>
    /// The script UnicodeScripts reads for <paramref name="codePoint"/>, as a class number (Hiragana, Katakana and U+30FC
    /// read as Han), or -1 for a code point in every script: ' ', and those the library's table lacks.
    /// </summary>
    public static int Script(int codePoint) => RangeOf(ScriptRanges, 3, codePoint) is >= 0 and var range ? ScriptRanges[3 * range + 2] : -1;

    /// <summary>Whether a code point lies in one of the [first, last] ranges a table lists in order.</summary>
    private static bool In(int[] ranges, int codePoint) => RangeOf(ranges, 2, codePoint) >= 0;

    /// <summary>Which of a table's ranges (each <paramref name="stride"/> ints: first, last, and what else it holds) holds <paramref name="codePoint"/>, or -1.</summary>
    private static int RangeOf(int[] table, int stride, int codePoint)
    {
        int low = 0, high = table.Length / stride - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            if (codePoint < table[stride * mid])
            {
                high = mid - 1;
            }
            else if (codePoint > table[stride * mid + 1])
            {
                low = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }
}
