using System.Text;
using Icu;
using Icu.Normalization;

namespace GpuInfo.Models;

/// <summary>
/// Unicode normalization (NFC, NFD, NFKC, NFKD) for a tokenizer's normalizer. GpuInfo runs with invariant
/// globalization, where .NET's <see cref="string.Normalize(NormalizationForm)"/> does nothing useful, so the
/// forms come from ICU4C through icu.net wherever the machine has libicu (every machine the .NET SDK runs
/// on: it needs ICU too), and from .NET where its runtime normalizes; on a machine with neither,
/// <see cref="Available"/> is false and a tokenizer that needs a form refuses the text that form may change.
/// </summary>
internal static class UnicodeForms
{
    private static readonly Lazy<Engine> Found = new(Find);

    /// <summary>Whether a normalizer was found.</summary>
    public static bool Available => Found.Value.Normalize is not null;

    /// <summary>Which normalizer runs, or why none does ("ICU 72.1", ".NET", "no ICU library (libicuuc) was found ...").</summary>
    public static string Source => Found.Value.Source;

    /// <summary><paramref name="text"/> in Unicode normalization form <paramref name="form"/>.</summary>
    /// <exception cref="InvalidOperationException">No normalizer was found (<see cref="Available"/>).</exception>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (Ascii.IsValid(text))
        {
            return text;
        }

        var normalize = Found.Value.Normalize ?? throw new InvalidOperationException($"No Unicode normalizer: {Source}.");

        // icu.net hands ICU a C string, which ends at the first NUL: "a\0b" came back as "a". NUL is a
        // boundary of every form (nothing composes with it), so the parts between NULs are normalized each.
        return text.Contains('\0') ? string.Join('\0', text.Split('\0').Select(part => normalize(part, form))) : normalize(text, form);
    }

    private sealed record Engine(Func<string, NormalizationForm, string>? Normalize, string Source);

    private static Engine Find()
    {
        if (DotNetNormalizes())
        {
            return new Engine((text, form) => text.Normalize(form), ".NET");
        }

        try
        {
            Wrapper.Init();
            var forms = new Dictionary<NormalizationForm, Normalizer2>
            {
                [NormalizationForm.FormC] = Normalizer2.GetNFCInstance(),
                [NormalizationForm.FormD] = Normalizer2.GetNFDInstance(),
                [NormalizationForm.FormKC] = Normalizer2.GetNFKCInstance(),
                [NormalizationForm.FormKD] = Normalizer2.GetNFKDInstance(),
            };
            if (forms[NormalizationForm.FormKC].Normalize("\uFB01e\u0301") != "fi\u00E9")
            {
                return new Engine(null, $"ICU {Wrapper.IcuVersion} does not normalize as Unicode defines");
            }

            return new Engine((text, form) => forms[form].Normalize(text), $"ICU {Wrapper.IcuVersion}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // icu.net looks for the library by platform and throws what each platform's loader throws
            // (FileLoadException here, others elsewhere): any failure means no ICU to normalize with.
            return new Engine(null, $"no usable ICU library (libicuuc) was found ({e.Message.TrimEnd('.')}), and this build of .NET runs with invariant globalization, where it does not normalize");
        }
    }

    private static bool DotNetNormalizes()
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
}
