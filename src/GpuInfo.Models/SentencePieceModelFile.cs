using System.Text;
using Google.Protobuf;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A SentencePiece <c>.model</c> (sentencepiece_model.proto), read as SentencePiece encodes with it:
/// <list type="bullet">
///   <item><description>a Unigram model (T5's, mT5's, ALBERT's, XLM-R's <c>spiece.model</c>) as a <see cref="UnigramTokenizer"/>
///   whose text goes through the model's own normalizer (<see cref="SentencePieceNormalizer"/>: its character map,
///   longest match first) and whose Viterbi is SentencePiece's (<see cref="SentencePieceLattice"/>: a user-defined
///   piece scores the piece's UTF-8 length times the best normal score, less 0.1, so that it is always taken);</description></item>
///   <item><description>a BPE model whose normalizer at most escapes spaces, adds the dummy prefix and removes extra
///   spaces (Llama 2's, Mistral's: no character map, spaces not suffixes, no dummy prefix without escaped spaces)
///   as a <see cref="SentencePieceBpe"/>: its normal and user-defined pieces merge by score, its user-defined
///   ones are found in the normalized text first, and its BOS goes before each text.</description></item>
/// </list>
/// Its control and unknown pieces (such as "&lt;s&gt;", "&lt;/s&gt;") are found in the text first, as Hugging Face's
/// tokenizers (the converted <c>tokenizer.json</c>, and the slow ones over the model) find them as special
/// tokens, where spm_encode and llama.cpp read their characters. Any other model (word, character; a BPE
/// one with a character map) is refused, naming what it does.
/// </summary>
/// <remarks>
/// <c>Microsoft.ML.Tokenizers</c>' <c>LlamaTokenizer</c>, which read some BPE models before, merges runs of one
/// character otherwise than SentencePiece (see <see cref="SentencePieceBpe"/>); its Unigram has no character map.
/// </remarks>
internal static class SentencePieceModelFile
{
    // sentencepiece_model.proto: ModelProto, ModelProto.SentencePiece, TrainerSpec, NormalizerSpec fields.
    private const int ModelPieces = 1, ModelTrainer = 2, ModelNormalizer = 3;
    private const int PieceText = 1, PieceScore = 2, PieceType = 3;
    private const int TrainerModelType = 3, TrainerWhitespaceSuffix = 24, TrainerByteFallback = 35, TrainerUnk = 40, TrainerBos = 41, TrainerEos = 42;
    private const int NormalizerName = 1, NormalizerCharsMap = 2, NormalizerDummyPrefix = 3, NormalizerRemoveSpaces = 4, NormalizerEscape = 5;
    private const int Unigram = 1, Bpe = 2;
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4;

    /// <summary>What a model file says: its pieces, trainer spec and normalizer spec (proto defaults where absent).</summary>
    private sealed class Proto
    {
        public List<(string Piece, float Score, int Type)> Pieces { get; } = [];
        public int ModelType { get; set; } = Unigram;
        public int Unk { get; set; }
        public int Bos { get; set; } = 1;
        public int Eos { get; set; } = 2;
        public bool ByteFallback { get; set; }
        public bool WhitespaceSuffix { get; set; }
        public bool DummyPrefix { get; set; } = true;
        public bool RemoveSpaces { get; set; } = true;
        public bool Escape { get; set; } = true;
        public byte[] CharsMap { get; set; } = [];
        public string? NormalizerName { get; set; }
    }

    /// <summary>A <see cref="UnigramTokenizer"/> or a <see cref="SentencePieceBpe"/>, as the model's type says.</summary>
    /// <exception cref="InvalidFileException">The file is not such a model, or one gpuinfo does not read (named).</exception>
    public static Microsoft.ML.Tokenizers.Tokenizer Read(string path)
    {
        var model = Parse(path);
        return model.ModelType switch
        {
            Unigram => ReadUnigram(model, path),
            Bpe => ReadBpe(model, path),
            _ => throw new InvalidFileException(path, $"is a SentencePiece {(model.ModelType switch { 3 => "word", 4 => "character", _ => $"type-{model.ModelType}" })} model; gpuinfo reads SentencePiece Unigram and BPE models (give this one's ids, from SentencePiece, with --tokens)."),
        };
    }

    private static Proto Parse(string path)
    {
        var model = new Proto();
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
                        model.Pieces.Add((piece, score, type));
                        break;
                    case ModelTrainer:
                        Fields(message, (f, value) => f switch
                        {
                            TrainerModelType => Do(() => model.ModelType = value.ReadEnum()),
                            TrainerWhitespaceSuffix => Do(() => model.WhitespaceSuffix = value.ReadBool()),
                            TrainerByteFallback => Do(() => model.ByteFallback = value.ReadBool()),
                            TrainerUnk => Do(() => model.Unk = value.ReadInt32()),
                            TrainerBos => Do(() => model.Bos = value.ReadInt32()),
                            TrainerEos => Do(() => model.Eos = value.ReadInt32()),
                            _ => false,
                        });
                        break;
                    default:
                        Fields(message, (f, value) => f switch
                        {
                            NormalizerName => Do(() => model.NormalizerName = value.ReadString()),
                            NormalizerCharsMap => Do(() => model.CharsMap = value.ReadBytes().ToByteArray()),
                            NormalizerDummyPrefix => Do(() => model.DummyPrefix = value.ReadBool()),
                            NormalizerRemoveSpaces => Do(() => model.RemoveSpaces = value.ReadBool()),
                            NormalizerEscape => Do(() => model.Escape = value.ReadBool()),
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

        if (model.Pieces.Count == 0)
        {
            throw new InvalidFileException(path, "is a SentencePiece model without pieces.");
        }

        return model;
    }

    /// <summary>
    /// A Unigram model as SentencePiece encodes with it (see <see cref="SentencePieceModelFile"/>); a model
    /// SentencePiece itself refuses to load (an empty or repeated piece, no unknown piece or two) is refused.
    /// </summary>
    private static UnigramTokenizer ReadUnigram(Proto model, string path)
    {
        var pieces = model.Pieces;
        float lowest = float.MaxValue, highest = BitConverter.Int32BitsToSingle(0x00800000);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int unknown = -1;
        for (int id = 0; id < pieces.Count; id++)
        {
            var (piece, score, type) = pieces[id];
            string? problem = piece.Length == 0 ? "is empty"
                : !seen.Add(piece) ? "is listed twice"
                : type == Unknown && unknown >= 0 ? $"is a second unknown piece (the first is {unknown})"
                : !float.IsFinite(score) ? $"has the score {score}"
                : null;
            if (problem is not null)
            {
                throw new InvalidFileException(path, $"has piece {id}, '{piece}', that {problem}; SentencePiece does not load such a model.");
            }

            unknown = type == Unknown ? id : unknown;
            if (type == Normal)
            {
                // SentencePiece's min_score_ and max_score_ (which starts at FLT_MIN, the least positive normal float).
                (lowest, highest) = (Math.Min(lowest, score), Math.Max(highest, score));
            }
        }

        if (unknown < 0)
        {
            throw new InvalidFileException(path, "has no unknown piece; SentencePiece does not load such a model.");
        }

        var outside = new HashSet<int>();
        var vocabulary = new List<(string, double)>(pieces.Count);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
        {
            var (piece, score, type) = pieces[id];
            // A user-defined piece's bonus: length * max_score_ in float32, less 0.1 in float64.
            vocabulary.Add((piece, type == UserDefined ? (double)(Encoding.UTF8.GetByteCount(piece) * highest) - 0.1 : score));
            if (type is not (Normal or UserDefined))
            {
                outside.Add(id);
            }

            if (type is Control or Unknown)
            {
                added[piece] = id;
            }
        }

        var normalizer = new SentencePieceNormalizer(model.NormalizerName, CharsMap(model, path), UserDefinedPieces(model),
            model.DummyPrefix, model.RemoveSpaces, model.Escape, model.WhitespaceSuffix);
        var words = new UnigramWords(false, model.Escape ? SentencePieceBpe.Space : null, DummyPrefix.None, false);
        return new UnigramTokenizer(vocabulary, unknown, model.ByteFallback, added, normalizer, words,
            new SentencePieceLattice((float)(lowest - 10f), outside))
        {
            BeginningOfSentenceId = Named(model.Bos, pieces.Count),
            EndOfSentenceId = Named(model.Eos, pieces.Count),
        };
    }

    private static SentencePieceBpe ReadBpe(Proto model, string path)
    {
        string? unread = model.WhitespaceSuffix ? "puts spaces after words (treat_whitespace_as_suffix)"
            : model.DummyPrefix && !model.Escape ? "adds a dummy prefix without escaping spaces"
            : null;
        if (unread is not null)
        {
            throw new InvalidFileException(path, $"is a SentencePiece BPE model that {unread}; gpuinfo reads SentencePiece BPE models whose spaces become '\u2581' before words (Llama 2's, Mistral's, Gemma's, Marian's), which it encodes as SentencePiece does (give this one's ids, from SentencePiece, with --tokens).");
        }

        var pieces = model.Pieces;
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

        if (model.Unk < 0 || model.Unk >= pieces.Count)
        {
            throw new InvalidFileException(path, $"names the unknown piece {model.Unk}, not one of its {pieces.Count}.");
        }

        var map = CharsMap(model, path);
        try
        {
            return new SentencePieceBpe([.. pieces.Select(p => p.Piece)], SentencePieceBpe.Merges.Scored(scores), added, model.Unk, model.ByteFallback,
                fuseUnknown: true, model.Escape, model.DummyPrefix ? DummyPrefix.Always : DummyPrefix.None)
            {
                FindsAddedInNormalizedText = true,
                // The character map and the removal of extra spaces; the BPE escapes the spaces and adds the dummy prefix.
                RunNormalizer = map is null && !model.RemoveSpaces ? null
                    : new SentencePieceNormalizer(model.NormalizerName, map, UserDefinedPieces(model), addDummyPrefix: false, model.RemoveSpaces, escapeWhitespaces: false, whitespaceAsSuffix: false),
                BeginningOfSentenceId = Named(model.Bos, pieces.Count),
                EndOfSentenceId = Named(model.Eos, pieces.Count),
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidFileException(path, e.Message);
        }
    }

    /// <summary>The normalizer's character map, or null where it has none.</summary>
    private static PrecompiledCharsmap? CharsMap(Proto model, string path)
    {
        try
        {
            return model.CharsMap.Length > 0 ? new PrecompiledCharsmap(model.CharsMap) : null;
        }
        catch (FormatException e)
        {
            throw new InvalidFileException(path, $"has {e.Message}.");
        }
    }

    private static IEnumerable<string> UserDefinedPieces(Proto model) => model.Pieces.Where(p => p.Type == UserDefined).Select(p => p.Piece);

    /// <summary>A trainer spec's id where it names one of the pieces, else -1 (-1 is SentencePiece's "none").</summary>
    private static int Named(int id, int count) => id >= 0 && id < count ? id : -1;

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

    private static bool Do(Action set)
    {
        set();
        return true;
    }
}
