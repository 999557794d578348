namespace GpuInfo.Models;

/// <summary>
/// Text a tokenizer cannot give Hugging Face's ids for, because the vocabulary lacks it and the model has
/// no unk_token: a SentencePiece-style BPE's character (Hugging Face drops it and merges its neighbours
/// across it), a WordLevel model's word (Hugging Face fails). <see cref="TextTokenizer.Encode"/> turns it
/// into a refusal naming the text.
/// </summary>
/// <param name="reason">Where the reason is another (a character gpuinfo itself cannot encode), the whole of it, which replaces "which the vocabulary lacks ...".</param>
internal sealed class UnencodableTextException(string piece, string huggingFace, string? reason = null)
    : Exception(reason ?? $"'{piece}' is outside the vocabulary, which has no unk_token")
{
    /// <summary>The character or word.</summary>
    public string Piece { get; } = piece;

    /// <summary>What Hugging Face's tokenizer does with it.</summary>
    public string HuggingFace { get; } = huggingFace;

    /// <summary>Why the text cannot be encoded, where it is not that the vocabulary lacks the piece; else null.</summary>
    public string? Reason { get; } = reason;
}
