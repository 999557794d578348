using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A text as token ids, with the bytes of text each token stands for (for bits per byte) and the
/// words of text each begins (for word perplexity) when a tokenizer made it (<see cref="TokenBytes"/>).
/// <see cref="Name"/> is what error messages call it (the text or ids file).
/// </summary>
public sealed class TokenizedText
{
    /// <exception cref="ArgumentException">Negative ids, or byte counts that do not pair with the ids.</exception>
    public TokenizedText(int[] ids, int[]? bytes, string name, string tokenizer)
        : this(ids, bytes, null, name, tokenizer)
    {
    }

    /// <param name="words">The words of text each token begins (a word belongs to the token holding its first character), or null.</param>
    /// <exception cref="ArgumentException">Negative ids, or byte or word counts that do not pair with the ids or are negative.</exception>
    public TokenizedText(int[] ids, int[]? bytes, int[]? words, string name, string tokenizer)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (bytes is not null && bytes.Length != ids.Length)
        {
            throw new ArgumentException($"expected {ids.Length} byte counts (one per token), got {bytes.Length}.", nameof(bytes));
        }

        if (words is not null && words.Length != ids.Length)
        {
            throw new ArgumentException($"expected {ids.Length} word counts (one per token), got {words.Length}.", nameof(words));
        }

        if (bytes is not null && bytes.AsSpan().ContainsAnyInRange(int.MinValue, -1))
        {
            throw new ArgumentException("byte counts must not be negative.", nameof(bytes));
        }

        if (words is not null && words.AsSpan().ContainsAnyInRange(int.MinValue, -1))
        {
            throw new ArgumentException("word counts must not be negative.", nameof(words));
        }

        int negative = ids.AsSpan().IndexOfAnyInRange(int.MinValue, -1);
        if (negative >= 0)
        {
            throw new ArgumentException($"token {negative} has the negative id {ids[negative]}.", nameof(ids));
        }

        Ids = ids;
        Bytes = bytes;
        Words = words;
        Name = name;
        Tokenizer = tokenizer;
        MaxId = ids.Length == 0 ? -1 : System.Numerics.Tensors.TensorPrimitives.Max<int>(ids);
    }

    public int[] Ids { get; }

    /// <summary>UTF-8 bytes of text per token (they sum to the text's length); null for ids read from a file, or a text the tokenizer normalized.</summary>
    public int[]? Bytes { get; }

    /// <summary>Words of text per token (each belongs to the token holding its first character; they sum to the text's words); null for ids read from a file.</summary>
    public int[]? Words { get; }

    public string Name { get; }

    /// <summary>Which tokenizer made the ids ("ids file" when read from one).</summary>
    public string Tokenizer { get; }

    public int MaxId { get; }

    /// <summary>Where each document begins in <see cref="Ids"/> ([0] for one text); documents are scored each on its own (<see cref="ModelWindows"/>).</summary>
    public IReadOnlyList<long> DocumentStarts { get; internal init; } = [0];

    /// <summary>
    /// Where each document is a loglikelihood request (<see cref="LoglikelihoodRequests"/>), its continuation's tokens,
    /// at its end (the rest is its context): what <see cref="WindowProtocol.Continuation"/> scores; else null.
    /// </summary>
    public IReadOnlyList<int>? Continuations { get; internal init; }

    /// <summary>
    /// Where requests (<see cref="Continuations"/>) come in groups that begin alike (a multiple-choice document's, a request per
    /// choice), the first request of each group, in order (<see cref="LoglikelihoodRequests.Grouped"/>); null where each stands
    /// alone. A model that <see cref="OnnxLanguageModel.ReusesPast"/> runs the tokens a request shares with its group's first once.
    /// </summary>
    public IReadOnlyList<int>? RequestGroups { get; internal init; }

    /// <summary>
    /// Where groups (<see cref="RequestGroups"/>) come in sections whose documents may begin alike (a file of MMLU's questions of one
    /// subject after the same five examples), the first request of each section, each a group's first; null where the text is one.
    /// A group's first request shares its first tokens with its section's first.
    /// </summary>
    public IReadOnlyList<int>? RequestSections { get; internal init; }

    /// <summary>The token before each document (its first id), where <see cref="Join"/> put one or found it there: an input, never a target, and not a token of the text.</summary>
    public int? PrefixToken { get; internal init; }

    /// <summary>
    /// Where the text has white space that lm-evaluation-harness's <c>count_words</c> counts as a word (an empty
    /// piece of <c>re.split(r"\s+", text)</c>): 1 at its start, 2 at its end, 3 both (<see cref="TokenBytes.WordEdges"/>);
    /// set by <see cref="TextTokenizer.Encode"/>, 0 for a text of several documents or ids read from a file.
    /// </summary>
    public byte WordEdges { get; internal init; }

    /// <summary>Whether <see cref="Words"/> count <see cref="WordEdges"/> (encoded with lm-evaluation-harness's words) in its first and last tokens of text.</summary>
    public bool WordsCountEdges { get; internal init; }

    /// <summary>Tokens of the text itself: <see cref="Ids"/> less the prefix tokens.</summary>
    public long TextTokens => Ids.LongLength - (PrefixToken is null ? 0 : DocumentStarts.Count);

    /// <summary>The ids of document <paramref name="document"/> (its prefix token included).</summary>
    public ReadOnlySpan<int> Document(int document)
    {
        long start = DocumentStarts[document], end = document + 1 < DocumentStarts.Count ? DocumentStarts[document + 1] : Ids.LongLength;
        return Ids.AsSpan((int)start, (int)(end - start));
    }

    /// <summary>
    /// Documents as one sequence, each scored on its own, with <paramref name="prefixToken"/> (when
    /// given) put before each, as lm-evaluation-harness puts its prefix token (BOS, else EOS) before
    /// a document so that its first token is predicted too, and llama.cpp its BOS before a text; a
    /// document that already begins with it (a SentencePiece tokenizer's own BOS) gets no second one.
    /// A text of several documents (joined before, or read from a <see cref="TokenizedCorpusFile"/>)
    /// gives each of them. Byte and word counts are kept where every document has them.
    /// </summary>
    /// <exception cref="ArgumentException">No documents, a document of no tokens, a negative prefix token, a text joined with another prefix token, or more ids than one array holds.</exception>
    public static TokenizedText Join(IReadOnlyList<TokenizedText> documents, int? prefixToken, string name)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(name);
        if (documents.Count == 0)
        {
            throw new ArgumentException("no documents.", nameof(documents));
        }

        if (documents.Select((d, i) => d is null ? i : -1).FirstOrDefault(i => i >= 0, -1) is >= 0 and var missing)
        {
            throw new ArgumentException($"document {missing} is null.", nameof(documents));
        }

        var builder = new TokenizedTextBuilder(prefixToken);
        foreach (var document in documents)
        {
            builder.Add(document, nameof(documents));
        }

        return builder.Build(name);
    }

    /// <summary>
    /// Reads token ids from a <c>.npy</c>, <c>.safetensors</c> or <c>.pt</c> file of integers, <c>[N]</c> or <c>[1, N]</c>;
    /// or a <see cref="TokenizedCorpusFile"/>'s documents, with their bytes and words.
    /// </summary>
    /// <exception cref="InvalidFileException">Missing, not integers, more than one sequence, or an id out of int range or negative.</exception>
    public static TokenizedText ReadIds(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (TokenizedCorpusFile.TryReadInfo(path) is not null)
        {
            return TokenizedCorpusFile.Read(path).Text;
        }

        using var file = TargetsFile.Open(path, role: "token ids");
        if (file.Info.Rank == 2 && file.Info.Shape[0] != 1)
        {
            throw new InvalidFileException(path, $"token ids must be one sequence, [N] or [1, N]; the shape is {file.Info.ShapeText}.");
        }

        if (file.Count > Array.MaxLength)
        {
            throw new InvalidFileException(path, $"holds {file.Count} tokens; at most {Array.MaxLength} can be read.");
        }

        var wide = new long[file.Count];
        file.Read(0, wide);
        var ids = new int[wide.Length];
        for (int i = 0; i < wide.Length; i++)
        {
            ids[i] = wide[i] is >= 0 and <= int.MaxValue ? (int)wide[i]
                : throw new InvalidFileException(path, $"token {i} has the id {wide[i]}, not a vocabulary index.");
        }

        return new TokenizedText(ids, null, path, "ids file");
    }
}
