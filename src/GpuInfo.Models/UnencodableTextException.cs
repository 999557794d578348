namespace GpuInfo.Models;

/// <summary>
/// Text a tokenizer cannot give Hugging Face's ids for, because the vocabulary lacks it and the model has
/// no unk_token: a SentencePiece-style BPE's character (Hugging Face drops it and merges its neighbours
/// across it), a WordLevel model's word (Hugging Face fails). <see cref="TextTokenizer.Encode"/> turns it
/// into a refusal naming the text.
/// </summary>
internal sealed class UnencodableTextException(string piece, string huggingFace)
    : Exception($"'{piece}' is outside the vocabulary, which has no unk_token")
{
    /// <summary>The character or word.</summary>
    public string Piece { get; } = piece;

    /// <summary>What Hugging Face's tokenizer does with it.</summary>
    public string HuggingFace { get; } = huggingFace;
}
