using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// Text as .NET's regex should see it for a tokenizer's pre-tokenizer: Hugging Face's tokenizers,
/// tiktoken and JavaScript match code points (a letter of the Mathematical Alphanumerics is \p{L}, an
/// emoji \p{S}, 𝟏 is \p{N}), .NET's regex UTF-16 chars, to which each half of such a character is a
/// surrogate. So each character beyond the BMP stands as one BMP character of its Unicode category
/// while the regex runs, and the offsets map back. The stand-ins lie outside the ranges patterns name
/// ([A-Za-z], CJK, ASCII punctuation).
/// </summary>
internal static class CodePointText
{
    /// <summary>The text [offset, offset + length) with its stand-ins, and where each of its chars (and its end) starts in that piece; null where the piece has no surrogates (the piece itself).</summary>
    public static (string Text, int[]? Starts) Read(string text, int offset, int length)
    {
        string piece = text.Substring(offset, length);
        if (!piece.Any(char.IsSurrogate))
        {
            return (piece, null);
        }

        var chars = new StringBuilder(length);
        var starts = new List<int>(length + 1);
        for (int i = 0; i < length;)
        {
            starts.Add(i);
            if (char.IsSurrogatePair(piece, i))
            {
                chars.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(piece, i))));
                i += 2;
            }
            else
            {
                chars.Append(piece[i]);
                i++;
            }
        }

        starts.Add(length);
        return (chars.ToString(), [.. starts]);
    }

    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0100',
        UnicodeCategory.LowercaseLetter => '\u0101',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u00AA',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00A1',
        UnicodeCategory.MathSymbol => '\u00AC',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.OtherSymbol => '\u00A9',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\uFFFF',
    };
}

/// <summary>Another pre-tokenizer (a built-in tiktoken encoding's regex) run over <see cref="CodePointText"/>, its pieces mapped back to the text.</summary>
internal sealed class CodePointPreTokenizer(PreTokenizer inner) : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        var (read, starts) = CodePointText.Read(text ?? "", 0, text?.Length ?? 0);
        if (starts is null)
        {
            return inner.PreTokenize(read);
        }

        return [.. inner.PreTokenize(read).Select(p => (starts[p.Offset], starts[p.Offset + p.Length] - starts[p.Offset]))];
    }
}

/// <summary>
/// Text as a pre-tokenizer step after <c>ByteLevel</c> sees it in Hugging Face's tokenizers: each UTF-8
/// byte as GPT-2's printable stand-in for it (<c>bytes_to_unicode</c>: '!'..'~', '¡'..'¬' and '®'..'ÿ'
/// as themselves, the other 68 bytes as U+0100 on, in order), so that "é" is "Ã©" and "β" is "Î²", in which
/// Digits finds the '²'.
/// </summary>
internal static class ByteLevelText
{
    private static readonly char[] Stand = StandIns();

    /// <summary>The piece [offset, offset + length) as byte stand-ins, and for each of them (and its end) where its character starts in the piece, or -1 for a byte inside a character; null for an ASCII piece (one byte a character).</summary>
    public static (string Text, int[]? Starts) Read(string text, int offset, int length)
    {
        if (Ascii.IsValid(text.AsSpan(offset, length)))
        {
            return (string.Create(length, (text, offset), static (chars, at) =>
            {
                for (int i = 0; i < chars.Length; i++)
                {
                    chars[i] = Stand[at.text[at.offset + i]];
                }
            }), null);
        }

        var chars = new StringBuilder(length);
        var starts = new List<int>(length + 1);
        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i < length;)
        {
            int units = char.IsSurrogatePair(text, offset + i) ? 2 : 1;
            int count = Encoding.UTF8.GetBytes(text.AsSpan(offset + i, units), bytes);
            for (int b = 0; b < count; b++)
            {
                chars.Append(Stand[bytes[b]]);
                starts.Add(b == 0 ? i : -1);
            }

            i += units;
        }

        starts.Add(length);
        return (chars.ToString(), [.. starts]);
    }

    /// <summary>The byte the stand-in <paramref name="c"/> stands for (<see cref="IsStandIn"/> must hold).</summary>
    public static byte ByteOf(char c) => (byte)(IsPrintable(c) ? c : Array.IndexOf(Stand, c));

    /// <summary>Whether <paramref name="c"/> is one of the 256 stand-ins: '!'..'~', '¡'..'¬', '®'..'ÿ', and U+0100..U+0143 for the other 68 bytes (the characters of a byte-level BPE's pieces).</summary>
    public static bool IsStandIn(char c) => IsPrintable(c) || c is >= '\u0100' and <= '\u0143';

    private static bool IsPrintable(int b) => b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);

    private static char[] StandIns()
    {
        var stand = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            stand[b] = IsPrintable(b) ? (char)b : (char)next++;
        }

        return stand;
    }
}
