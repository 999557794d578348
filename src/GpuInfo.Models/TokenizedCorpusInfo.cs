using System.Globalization;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// What a <see cref="TokenizedCorpusFile"/> says of the tokenizer that made it: enough to score its ids
/// as <c>--text</c> with that tokenizer would (the model's vocabulary checked, the prefix token found,
/// lm-evaluation-harness's words counted), without loading the tokenizer again.
/// </summary>
public sealed record TokenizedCorpusInfo
{
    /// <summary>The tokenizer's name (a built-in encoding, or the path it was loaded from).</summary>
    public required string Tokenizer { get; init; }

    /// <summary>The tokenizer's vocabulary size, where it says.</summary>
    public int? Vocabulary { get; init; }

    /// <summary>lm-evaluation-harness's prefix token (<see cref="TextTokenizer.DocumentPrefix"/>), or null.</summary>
    public int? DocumentPrefix { get; init; }

    /// <summary>Where <see cref="DocumentPrefix"/> came from, or why there is none.</summary>
    public string DocumentPrefixSource { get; init; } = "";

    /// <summary>The token every document begins with (<see cref="TextTokenizer.BeginsEachText"/>), or null.</summary>
    public int? BeginsEachText { get; init; }

    /// <summary>How many tokens the tokenizer put before each document's text (<see cref="TextTokenizer.AddedBefore"/>).</summary>
    public int AddedBefore { get; init; }

    /// <summary>How many tokens the tokenizer put after each document's text.</summary>
    public int AddedAfter { get; init; }

    /// <summary>What rewrote each document before it was encoded (<see cref="WikitextDetokenizer.Name"/>; its bytes and words are the document's as given), or null.</summary>
    public string? Detokenizer { get; init; }

    /// <summary>What <paramref name="tokenizer"/> says of itself.</summary>
    public static TokenizedCorpusInfo Of(TextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new TokenizedCorpusInfo
        {
            Tokenizer = tokenizer.Name,
            Vocabulary = tokenizer.VocabularySize,
            DocumentPrefix = tokenizer.DocumentPrefix,
            DocumentPrefixSource = tokenizer.DocumentPrefixSource,
            BeginsEachText = tokenizer.BeginsEachText,
            AddedBefore = tokenizer.AddedBefore.Count,
            AddedAfter = tokenizer.AddedAfter.Count,
        };
    }

    internal Dictionary<string, string> ToMetadata(long documents, long tokens) => new(StringComparer.Ordinal)
    {
        ["format"] = TokenizedCorpusFile.Format,
        ["version"] = "1",
        ["tokenizer"] = Tokenizer,
        ["vocabulary"] = Text(Vocabulary),
        ["document_prefix"] = Text(DocumentPrefix),
        ["document_prefix_source"] = DocumentPrefixSource,
        ["begins_each_text"] = Text(BeginsEachText),
        ["added_before"] = Text(AddedBefore),
        ["added_after"] = Text(AddedAfter),
        ["detokenizer"] = Detokenizer ?? "",
        ["documents"] = Text(documents),
        ["tokens"] = Text(tokens),
    };

    /// <exception cref="InvalidFileException">A field missing or not a count.</exception>
    internal static TokenizedCorpusInfo FromMetadata(string path, IReadOnlyDictionary<string, string> metadata)
    {
        string Field(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new InvalidFileException(path, $"__metadata__ has no '{key}': not a whole {TokenizedCorpusFile.Format} file.");

        int? Optional(string key) => Field(key) is "" ? null : Count(key);

        int Count(string key) => int.TryParse(Field(key), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value
            : throw new InvalidFileException(path, $"__metadata__ '{key}' is '{Field(key)}', not a count.");

        if (Field("version") != "1")
        {
            throw new InvalidFileException(path, $"is a {TokenizedCorpusFile.Format} file of version {Field("version")}; this gpuinfo reads version 1.");
        }

        return new TokenizedCorpusInfo
        {
            Tokenizer = Field("tokenizer"),
            Vocabulary = Optional("vocabulary"),
            DocumentPrefix = Optional("document_prefix"),
            DocumentPrefixSource = Field("document_prefix_source"),
            BeginsEachText = Optional("begins_each_text"),
            AddedBefore = Count("added_before"),
            AddedAfter = Count("added_after"),
            Detokenizer = metadata.TryGetValue("detokenizer", out var detokenizer) && detokenizer.Length > 0 ? detokenizer : null, // none before 2026-12-07
        };
    }

    private static string Text(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
}
