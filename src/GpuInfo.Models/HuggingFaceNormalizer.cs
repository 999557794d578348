using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A byte-level tokenizer.json's <c>normalizer</c>: Unicode normalization (NFC, NFD, NFKC, NFKD, by
/// <see cref="UnicodeForms"/>: the machine's ICU, or .NET's where it normalizes), <c>Lowercase</c> (per code point, as Rust's <c>char::to_lowercase</c>
/// that Hugging Face calls), and a <c>Sequence</c> of them (Qwen's tokenizer.json is NFC, Claude's NFKC).
/// Other kinds are refused by name rather than skipped. A text it changes has no byte counts
/// (<see cref="TextTokenizer.Encode"/>): its offsets no longer point into the text. On a machine without
/// ICU a text that the Unicode form may change is refused (<see cref="Refuses(string)"/>: under NFC only one that
/// holds a character NFC may change or compose) rather than encoded unnormalized.
/// </summary>
internal sealed class HuggingFaceNormalizer : Normalizer
{
    private readonly IReadOnlyList<(string Name, Func<string, string> Apply)> _steps;
    private readonly string? _unicodeForm;

    private HuggingFaceNormalizer(IReadOnlyList<(string, Func<string, string>)> steps, string? unicodeForm)
    {
        _steps = steps;
        _unicodeForm = unicodeForm;
    }

    /// <summary>Its steps, a Unicode form with what applies it: "NFKC (ICU 72.1), Lowercase".</summary>
    public override string ToString() =>
        string.Join(", ", _steps.Select(s => s.Name == _unicodeForm ? $"{s.Name} ({UnicodeForms.Source})" : s.Name));

    /// <summary>
    /// Why <paramref name="text"/> cannot be normalized here, or null: where <see cref="UnicodeForms.Available"/>, null. NFC leaves a text unchanged
    /// unless it holds a character whose NFC_Quick_Check is No (a singleton such as U+212B ANGSTROM SIGN,
    /// a composition exclusion, a CJK compatibility ideograph: <see cref="NfcChanges"/>) or Maybe (a
    /// combining mark or a conjoining Hangul jamo, which may compose with what precedes it), so such a
    /// text is refused and any other read as it is; under NFD, NFKC and NFKD any text beyond ASCII is.
    /// </summary>
    public string? Refuses(string text) => Refuses(text, UnicodeForms.Available);

    /// <summary><see cref="Refuses(string)"/> on a machine that can normalize, or cannot.</summary>
    internal string? Refuses(string text, bool canNormalize)
    {
        if (_unicodeForm is null || canNormalize || System.Text.Ascii.IsValid(text))
        {
            return null;
        }

        int at = _unicodeForm == "NFC" ? FirstNfcChange(text) : 0;
        return at < 0 ? null
            : $"holds {(at < text.Length ? $"U+{char.ConvertToUtf32(text, at):X4} at char {at}, " : "")}which the tokenizer's {_unicodeForm} normalizer may change, and this machine cannot normalize: {UnicodeForms.Source}. Its ids would not be Hugging Face's: install ICU (libicu), or give its ids, from Hugging Face's tokenizer, with --tokens";
    }

    /// <summary>The first char of a code point NFC may change or compose (see <see cref="Refuses(string)"/>), or -1.</summary>
    private static int FirstNfcChange(string text)
    {
        for (int i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
        {
            int c = char.IsSurrogatePair(text, i) ? char.ConvertToUtf32(text, i) : text[i];
            if (c >= 0x300 && (NfcChanges(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark || c is >= 0x1100 and <= 0x11FF))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>NFC_Quick_Check=No (Unicode's DerivedNormalizationProps), by ranges.</summary>
    private static bool NfcChanges(int c) => c is (>= 0x0340 and <= 0x0341) or (>= 0x0343 and <= 0x0344) or 0x0374 or 0x037E or 0x0387
        or (>= 0x0958 and <= 0x095F) or (>= 0x09DC and <= 0x09DD) or 0x09DF or 0x0A33 or 0x0A36 or (>= 0x0A59 and <= 0x0A5B) or 0x0A5E
        or (>= 0x0B5C and <= 0x0B5D) or 0x0F43 or 0x0F4D or 0x0F52 or 0x0F57 or 0x0F5C or 0x0F69 or 0x0F73 or (>= 0x0F75 and <= 0x0F76)
        or 0x0F78 or 0x0F81 or 0x0F93 or 0x0F9D or 0x0FA2 or 0x0FA7 or 0x0FAC or 0x0FB9 or (>= 0x1F71 and <= 0x1FFD)
        or (>= 0x2000 and <= 0x2001) or 0x2126 or (>= 0x212A and <= 0x212B) or (>= 0x2329 and <= 0x232A) or 0x2ADC
        or (>= 0xF900 and <= 0xFAFF) or (>= 0xFB1D and <= 0xFB4E) or (>= 0x1D15E and <= 0x1D164) or (>= 0x1D1BB and <= 0x1D1C0)
        or (>= 0x2F800 and <= 0x2FA1D);

    /// <summary>The normalizer a tokenizer.json describes, or null where it has none (or an empty Sequence).</summary>
    public static HuggingFaceNormalizer? Read(JsonNode? node, string path)
    {
        var steps = new List<(string, Func<string, string>)>();
        string? form = null;
        Add(node, steps, ref form, path);
        return steps.Count == 0 ? null : new HuggingFaceNormalizer(steps, form);
    }

    private static void Add(JsonNode? node, List<(string, Func<string, string>)> steps, ref string? unicodeForm, string path)
    {
        if (node is null)
        {
            return;
        }

        string? type = node["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in node["normalizers"] as JsonArray ?? [])
                {
                    Add(inner, steps, ref unicodeForm, path);
                }

                break;
            case "NFC" or "NFD" or "NFKC" or "NFKD":
                var form = Enum.Parse<NormalizationForm>("Form" + type[2..]);
                steps.Add((type, text => UnicodeForms.Available ? UnicodeForms.Normalize(text, form) : text)); // else Refuses(text) already refused a text it changes
                unicodeForm = type;
                break;
            case "Lowercase":
                steps.Add((type, Lowercase));
                break;
            default:
                throw new InvalidFileException(path, $"has a {type ?? "typeless"} normalizer; a byte-level BPE is read with NFC, NFD, NFKC, NFKD and Lowercase ones and a Sequence of them.");
        }
    }

    /// <summary>
    /// Each code point's full lowercase mapping, without context, as Hugging Face's Lowercase: .NET's
    /// invariant simple mapping, except U+0130 (İ), the one code point whose full mapping is two
    /// (i and U+0307 COMBINING DOT ABOVE) and which invariant casing leaves as it is.
    /// </summary>
    internal static string Lowercase(string text) => text.ToLowerInvariant().Replace("\u0130", "i\u0307", StringComparison.Ordinal);

    public override string Normalize(string original)
    {
        string text = original;
        foreach (var (_, apply) in _steps)
        {
            text = apply(text);
        }

        return text;
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
