using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// Loads tokenizers by name or path: <c>gpt2</c>, <c>r50k_base</c>, <c>cl100k_base</c> and
/// <c>o200k_base</c> from the <c>Microsoft.ML.Tokenizers.Data.*</c> packages (no file needed); a
/// Hugging Face <c>tokenizer.json</c> (byte-level or SentencePiece-style BPE); a GPT-2-style <c>vocab.json</c>
/// with <c>merges.txt</c> beside it; a SentencePiece <c>.model</c>; or a folder holding one of these.
/// </summary>
public static class TokenizerCatalog
{
    /// <summary>GPT-2's pre-tokenizer, which byte-level BPE files (vocab.json + merges.txt) assume.</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The names that need no file.</summary>
    public static IReadOnlyList<string> Names { get; } = ["gpt2", "r50k_base", "cl100k_base", "o200k_base"];

    /// <exception cref="InvalidFileException">A path that is missing or holds no tokenizer this can read; names the file.</exception>
    public static TextTokenizer Load(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (Names.Contains(nameOrPath))
        {
            var tiktoken = Tiktoken(nameOrPath);
            var table = TokenPieces.TiktokenTable(nameOrPath);
            return DocumentPrefixes.Find(new TextTokenizer(tiktoken, nameOrPath, MaxId(tiktoken.SpecialTokens) + 1, true, TokenPieces.Tiktoken(table), () => table.Value), null);
        }

        string path = nameOrPath;
        if (Directory.Exists(path))
        {
            path = new[] { "tokenizer.json", "vocab.json", "tokenizer.model" }.Select(f => Path.Combine(nameOrPath, f)).FirstOrDefault(File.Exists)
                ?? throw new InvalidFileException(nameOrPath, "holds no tokenizer.json, vocab.json (with merges.txt) or tokenizer.model.");
        }

        if (!File.Exists(path))
        {
            throw new InvalidFileException(path, $"no such tokenizer file (or name: {string.Join(", ", Names)}).");
        }

        try
        {
            return Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".model" => SentencePiece(path),
                ".json" when Path.GetFileName(path).Equals("vocab.json", StringComparison.OrdinalIgnoreCase) => VocabAndMerges(path),
                ".json" => HuggingFaceTokenizerJson.Load(path),
                _ => throw new InvalidFileException(path, "not a tokenizer file this reads (tokenizer.json, vocab.json with merges.txt, or a SentencePiece .model)."),
            };
        }
        catch (Exception e) when (e is not InvalidFileException and (ArgumentException or FormatException or InvalidOperationException or IOException or System.Text.Json.JsonException))
        {
            throw new InvalidFileException(path, $"cannot be read as a tokenizer: {e.Message}");
        }
    }

    /// <summary>
    /// A built-in encoding, its regex reading code points (<see cref="CodePointPreTokenizer"/>): the
    /// library's own read 𝟏𝟐𝟑𝟒 and a letter beyond the BMP as surrogates, and cl100k_base gave 95 ids
    /// where tiktoken's JavaScript port gives 96 on a line of such characters.
    /// </summary>
    private static TiktokenTokenizer Tiktoken(string name)
    {
        var library = name == "gpt2" ? TiktokenTokenizer.CreateForModel("gpt2") : TiktokenTokenizer.CreateForEncoding(name);
        using var file = TokenPieces.TiktokenFile(name);
        return file is null || library.PreTokenizer is null ? library
            : TiktokenTokenizer.Create(file, new CodePointPreTokenizer(library.PreTokenizer), library.Normalizer, library.SpecialTokens);
    }

    /// <summary>The id of a token given as its text (a special token, or a piece of the vocabulary), or null when it is not one token.</summary>
    public static int? TokenId(Tokenizer tokenizer, string token)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(token);
        if (SpecialTokens(tokenizer) is { } special && special.TryGetValue(token, out int id))
        {
            return id;
        }

        return Vocabulary(tokenizer) is { } vocabulary && vocabulary.TryGetValue(token, out id) ? id : null;
    }

    /// <summary>The special (added) tokens of a tokenizer gpuinfo knows, with their ids; null for another kind.</summary>
    internal static IReadOnlyDictionary<string, int>? SpecialTokens(Tokenizer tokenizer) => tokenizer switch
    {
        TiktokenTokenizer t => t.SpecialTokens,
        BpeTokenizer b => b.SpecialTokens,
        SentencePieceTokenizer sp => sp.SpecialTokens,
        SentencePieceBpe sp => sp.SpecialTokens,
        UnigramTokenizer unigram => unigram.SpecialTokens,
        WordModelTokenizer words => words.SpecialTokens,
        PieceBpeTokenizer pieces => pieces.SpecialTokens,
        _ => null,
    };

    /// <summary>The vocabulary of a tokenizer gpuinfo knows, piece to id; null for another kind.</summary>
    internal static IReadOnlyDictionary<string, int>? Vocabulary(Tokenizer tokenizer) => tokenizer switch
    {
        BpeTokenizer b => b.Vocabulary,
        SentencePieceTokenizer sp => sp.Vocabulary,
        SentencePieceBpe sp => sp.Vocabulary,
        UnigramTokenizer unigram => unigram.Vocabulary,
        WordModelTokenizer words => words.Vocabulary,
        PieceBpeTokenizer pieces => pieces.Bpe.Vocabulary,
        _ => null,
    };

    internal static int MaxId(IEnumerable<KeyValuePair<string, int>>? ids) => ids?.Select(kv => kv.Value).DefaultIfEmpty(-1).Max() ?? -1;

    private static TextTokenizer VocabAndMerges(string vocabPath)
    {
        string merges = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(vocabPath))!, "merges.txt");
        if (!File.Exists(merges))
        {
            throw new InvalidFileException(vocabPath, $"a vocab.json needs merges.txt beside it ({merges} is missing).");
        }

        using var vocab = File.OpenRead(vocabPath);
        using var mergeLines = File.OpenRead(merges);
        var tokenizer = VocabAndMerges(vocab, mergeLines, vocabPath);
        return DocumentPrefixes.Find(tokenizer, vocabPath);
    }

    /// <summary>A GPT-2-style byte-level BPE from a vocab.json and a merges.txt held in streams (e.g. embedded resources).</summary>
    /// <exception cref="System.Text.Json.JsonException">The vocabulary is not a JSON object of token → id.</exception>
    /// <exception cref="ArgumentException">An id is negative, or a merge line is not two pieces of the vocabulary.</exception>
    public static TextTokenizer VocabAndMerges(Stream vocab, Stream merges, string name)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(name);
        var ids = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(vocab)
            ?? throw new System.Text.Json.JsonException("the vocabulary is null.");
        using var reader = new StreamReader(merges);
        var pairs = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            {
                pairs.Add(line);
            }
        }

        if (ids.FirstOrDefault(kv => kv.Value < 0) is { Key: not null } negative)
        {
            throw new ArgumentException($"{name}: the piece '{negative.Key}' has the id {negative.Value}, not a vocabulary index.", nameof(vocab));
        }

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(ids) { Merges = pairs, ByteLevel = true, PreTokenizer = HuggingFacePreTokenizer.Read(null, null, name) });
        }
        catch (InvalidOperationException e)
        {
            // Microsoft.ML's word for a merge line that is not two pieces, or of pieces the vocabulary lacks.
            throw new ArgumentException($"{name}: its merges cannot be read: {e.Message}", nameof(merges), e);
        }

        return DocumentPrefixes.Find(new TextTokenizer(bpe, name, Math.Max(MaxId(ids), MaxId(bpe.SpecialTokens)) + 1, true), null);
    }

    /// <summary>A SentencePiece .model (<see cref="SentencePieceModelFile"/>): a BPE one (Llama 2's) with its BOS before each text; a Unigram one (T5's) adds nothing, as spm_encode.</summary>
    private static TextTokenizer SentencePiece(string path)
    {
        var tokenizer = SentencePieceModelFile.Read(path);
        int size = Math.Max(MaxId(Vocabulary(tokenizer)!), MaxId(SpecialTokens(tokenizer)!)) + 1;
        return DocumentPrefixes.Find(new TextTokenizer(tokenizer, path, size, false)
        {
            AddedBefore = tokenizer is SentencePieceBpe { BeginningOfSentenceId: >= 0 and var bos } ? [bos] : [],
        }, path);
    }
}
