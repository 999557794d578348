using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A byte-level tokenizer.json's <c>normalizer</c>: Unicode normalization (NFC, NFD, NFKC, NFKD: .NET's,
/// the same Unicode forms), <c>Lowercase</c>, and a <c>Sequence</c> of them (Claude's tokenizer.json is
/// NFKC). Other kinds are refused by name rather than skipped. A text it changes has no byte counts
/// (<see cref="TextTokenizer.Encode"/>): its offsets no longer point into the text. GpuInfo runs without
/// ICU (invariant globalization), where .NET does not normalize: a text beyond ASCII, which a Unicode
/// form may change, is then refused (<see cref="Refuses"/>) rather than encoded as it is.
/// </summary>
internal sealed class HuggingFaceNormalizer : Normalizer
{
    private static readonly bool RuntimeNormalizes = Normalizes();

    private readonly IReadOnlyList<Func<string, string>> _steps;
    private readonly string? _unicodeForm;

    private HuggingFaceNormalizer(IReadOnlyList<Func<string, string>> steps, string? unicodeForm)
    {
        _steps = steps;
        _unicodeForm = unicodeForm;
    }

    /// <summary>Why <paramref name="text"/> cannot be normalized here, or null.</summary>
    public string? Refuses(string text) => _unicodeForm is not null && !RuntimeNormalizes && !System.Text.Ascii.IsValid(text)
        ? $"holds characters beyond ASCII, which the tokenizer's {_unicodeForm} normalizer may change, and this build of gpuinfo runs without ICU (invariant globalization), where .NET does not normalize: its ids would not be Hugging Face's"
        : null;

    private static bool Normalizes()
    {
        try
        {
            return "\uFB01".Normalize(NormalizationForm.FormKC) == "fi";
        }
        catch (PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The normalizer a tokenizer.json describes, or null where it has none (or an empty Sequence).</summary>
    public static HuggingFaceNormalizer? Read(JsonNode? node, string path)
    {
        var steps = new List<Func<string, string>>();
        string? form = null;
        Add(node, steps, ref form, path);
        return steps.Count == 0 ? null : new HuggingFaceNormalizer(steps, form);
    }

    private static void Add(JsonNode? node, List<Func<string, string>> steps, ref string? unicodeForm, string path)
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
                steps.Add(text => RuntimeNormalizes ? text.Normalize(form) : text);
                unicodeForm = type;
                break;
            case "Lowercase":
                steps.Add(text => text.ToLowerInvariant());
                break;
            default:
                throw new InvalidFileException(path, $"has a {type ?? "typeless"} normalizer; a byte-level BPE is read with NFC, NFD, NFKC, NFKD and Lowercase ones and a Sequence of them.");
        }
    }

    public override string Normalize(string original)
    {
        string text = original;
        foreach (var step in _steps)
        {
            text = step(text);
        }

        return text;
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
