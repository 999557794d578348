namespace GpuInfo.Models;

/// <summary>
/// A character a tokenizer cannot give Hugging Face's ids for: a SentencePiece-style BPE without an
/// unk_token meets one outside its vocabulary and its byte pieces, which Hugging Face's BPE drops and then
/// merges its neighbours across. <see cref="TextTokenizer.Encode"/> turns it into a refusal naming the text.
/// </summary>
internal sealed class UnencodableCharacterException(string character)
    : Exception($"U+{char.ConvertToUtf32(character, 0):X4} is outside the vocabulary, which has no unk_token")
{
    public string Character { get; } = character;
}
