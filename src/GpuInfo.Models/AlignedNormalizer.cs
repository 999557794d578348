using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A normalizer that can say where each char of its result comes from (<see cref="AlignedText"/>), so that
/// a tokenizer encoding the normalized text still points its tokens into the text as given:
/// a tokenizer.json's (<see cref="HuggingFaceNormalizer"/>) or a SentencePiece model's (<see cref="SentencePieceNormalizer"/>).
/// </summary>
internal abstract class AlignedNormalizer : Normalizer
{
    /// <summary>
    /// The normalized text, and (where <paramref name="track"/>) the chars of <paramref name="original"/> each
    /// of its chars comes from; null spans where a step that does not keep track changed it.
    /// </summary>
    public abstract AlignedText Apply(string original, bool track);

    /// <summary>Why <paramref name="text"/> cannot be normalized here, or null (<see cref="HuggingFaceNormalizer.Refuses(string)"/>).</summary>
    public virtual string? Refuses(string text) => null;

    public sealed override string Normalize(string original) => Apply(original, false).Text;

    public sealed override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
