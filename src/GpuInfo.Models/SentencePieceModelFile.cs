using Google.Protobuf;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A SentencePiece <c>.model</c> (sentencepiece_model.proto) read as a <see cref="SentencePieceBpe"/>
/// where it is a BPE model whose normalizer at most escapes spaces, adds the dummy prefix and removes
/// extra spaces (Llama 2's, Mistral's: no precompiled character map, spaces not suffixes, no dummy
/// prefix without escaped spaces): its normal and user-defined pieces merge by score, its
/// user-defined, control and unknown pieces are found in the normalized text first (SentencePiece
/// finds its user-defined pieces so; the control and unknown ones, such as "&lt;s&gt;", as Hugging
/// Face's tokenizer finds a converted model's added tokens, where spm_encode and llama.cpp read the
/// characters), and its trainer spec names BOS and EOS. Any other model (Unigram; one with a character
/// map) is refused, naming what it does: <c>Microsoft.ML.Tokenizers</c>' <c>LlamaTokenizer</c>, which read
/// some of them before, merges runs of one character otherwise than SentencePiece (see <see cref="SentencePieceBpe"/>).
/// </summary>
internal static class SentencePieceModelFile
{
    // sentencepiece_model.proto: ModelProto, ModelProto.SentencePiece, TrainerSpec, NormalizerSpec fields.
    private const int ModelPieces = 1, ModelTrainer = 2, ModelNormalizer = 3;
    private const int PieceText = 1, PieceScore = 2, PieceType = 3;
    private const int TrainerModelType = 3, TrainerWhitespaceSuffix = 24, TrainerByteFallback = 35, TrainerUnk = 40, TrainerBos = 41, TrainerEos = 42;
    private const int NormalizerCharsMap = 2, NormalizerDummyPrefix = 3, NormalizerRemoveSpaces = 4, NormalizerEscape = 5;
    private const int Bpe = 2;
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4;

    public static SentencePieceBpe Read(string path)
    {
        var pieces = new List<(string Piece, float Score, int Type)>();
        int modelType = 1, unk = 0, bos = 1, eos = 2;
        bool byteFallback = false, whitespaceSuffix = false, dummyPrefix = true, removeSpaces = true, escape = true, charsMap = false;
        try
        {
            var input = new CodedInputStream(File.ReadAllBytes(path));
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                int field = WireFormat.GetTagFieldNumber(tag);
                if (field is not (ModelPieces or ModelTrainer or ModelNormalizer) || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    input.SkipLastField();
                    continue;
                }

                var message = new CodedInputStream(input.ReadBytes().ToByteArray());
                switch (field)
                {
                    case ModelPieces:
                        string piece = "";
                        float score = 0;
                        int type = Normal;
                        Fields(message, (f, value) => f switch
                        {
                            PieceText => Set(out piece, value.ReadString()),
                            PieceScore => Set(out score, value.ReadFloat()),
                            PieceType => Set(out type, value.ReadEnum()),
                            _ => false,
                        });
                        pieces.Add((piece, score, type));
                        break;
                    case ModelTrainer:
                        Fields(message, (f, value) => f switch
                        {
                            TrainerModelType => Set(out modelType, value.ReadEnum()),
                            TrainerWhitespaceSuffix => Set(out whitespaceSuffix, value.ReadBool()),
                            TrainerByteFallback => Set(out byteFallback, value.ReadBool()),
                            TrainerUnk => Set(out unk, value.ReadInt32()),
                            TrainerBos => Set(out bos, value.ReadInt32()),
                            TrainerEos => Set(out eos, value.ReadInt32()),
                            _ => false,
                        });
                        break;
                    default:
                        Fields(message, (f, value) => f switch
                        {
                            NormalizerCharsMap => Set(out charsMap, value.ReadBytes().Length > 0),
                            NormalizerDummyPrefix => Set(out dummyPrefix, value.ReadBool()),
                            NormalizerRemoveSpaces => Set(out removeSpaces, value.ReadBool()),
                            NormalizerEscape => Set(out escape, value.ReadBool()),
                            _ => false,
                        });
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidFileException(path, $"is not a SentencePiece model: {e.Message}");
        }

        string? unread = modelType != Bpe ? $"is a SentencePiece {(modelType switch { 1 => "Unigram", 3 => "word", 4 => "character", _ => $"type-{modelType}" })} model"
            : charsMap ? "normalizes its text with a character map (such as nmt_nfkc)"
            : whitespaceSuffix ? "puts spaces after words (treat_whitespace_as_suffix)"
            : dummyPrefix && !escape ? "adds a dummy prefix without escaping spaces"
            : pieces.Count == 0 ? "has no pieces"
            : null;
        if (unread is not null)
        {
            throw new InvalidFileException(path, $"{unread}; gpuinfo reads SentencePiece BPE models whose normalizer at most escapes spaces, adds a dummy prefix and removes extra spaces (Llama 2's, Mistral's, Gemma's), which it encodes as SentencePiece does (give this one's ids, from SentencePiece, with --tokens).");
        }

        var scores = new Dictionary<string, float>(StringComparer.Ordinal);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
        {
            var (piece, score, type) = pieces[id];
            if (type is Normal or UserDefined)
            {
                scores.TryAdd(piece, score);
            }

            if (type is UserDefined or Control or Unknown && piece.Length > 0)
            {
                added.TryAdd(piece, id);
            }
        }

        if (unk < 0 || unk >= pieces.Count)
        {
            throw new InvalidFileException(path, $"names the unknown piece {unk}, not one of its {pieces.Count}.");
        }

        try
        {
            return new SentencePieceBpe([.. pieces.Select(p => p.Piece)], SentencePieceBpe.Merges.Scored(scores), added, unk, byteFallback,
                fuseUnknown: false, escape, dummyPrefix ? DummyPrefix.Always : DummyPrefix.None)
            {
                FindsAddedInNormalizedText = true,
                RemovesExtraSpaces = removeSpaces,
                BeginningOfSentenceId = bos >= 0 && bos < pieces.Count ? bos : -1,
                EndOfSentenceId = eos >= 0 && eos < pieces.Count ? eos : -1,
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidFileException(path, e.Message);
        }
    }

    /// <summary>Each field of a message: <paramref name="read"/> reads one it knows and says so; the others are skipped.</summary>
    private static void Fields(CodedInputStream message, Func<int, CodedInputStream, bool> read)
    {
        uint tag;
        while ((tag = message.ReadTag()) != 0)
        {
            if (!read(WireFormat.GetTagFieldNumber(tag), message))
            {
                message.SkipLastField();
            }
        }
    }

    private static bool Set<T>(out T target, T value)
    {
        target = value;
        return true;
    }
}
