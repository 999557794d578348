using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli;

/// <summary>
/// --total-bytes and --total-words: the size of the text a corpus's tokens encode, for the rates
/// lm-evaluation-harness reports (bits per byte, byte and word perplexity). Where the source counts
/// the bytes and words of each scored token (eval --bytes, a model's text with a tokenizer), those
/// count instead, and the totals are refused.
/// </summary>
internal sealed class TextRates
{
    private const string BytesHelp = "Bytes (UTF-8) of the text the scored tokens encode: adds bits_per_byte and byte_perplexity.";
    private const string WordsHelp = "Words of that text (lm-evaluation-harness counts len(re.split(r'\\s+', text))): adds word_perplexity.";

    private readonly Option<long?> _bytes;
    private readonly Option<long?> _words;

    public TextRates(string bytesHelp = BytesHelp, string wordsHelp = WordsHelp)
    {
        _bytes = new("--total-bytes") { Description = bytesHelp };
        _words = new("--total-words") { Description = wordsHelp };
    }

    /// <summary>The options of a verb that scores a model's text (perplexity): with --text the tokenizer counts bytes and words per token, with --tokens these give the whole text's.</summary>
    public static TextRates ForModelText() => new(
        "Bytes (UTF-8) of the whole text the --tokens ids encode: adds bits_per_byte and byte_perplexity (with --text the tokenizer counts each scored token's own bytes, so this is refused, unless it normalizes the text and counts none). "
        + "The first token, which nothing predicts, goes unscored but its bytes are in the total: a bias of one token. Refused when --stride equals --context over several windows, "
        + "since each window's first token then goes unscored too.",
        "Words of the whole text the --tokens ids encode, as lm-evaluation-harness counts them (len(re.split(r'\\s+', text))): adds word_perplexity, with the first token's words counted as for --total-bytes, and refused where it is. "
        + "With --text it is refused (unless the tokenizer normalizes the text): the tokenizer counts the words each scored token begins (a word, a maximal run of non-whitespace, goes with the token holding its first character), "
        + "which at the text's edges is one fewer than lm-evaluation-harness's count for whitespace at its start and one fewer for whitespace at its end (re.split gives an empty piece for each), "
        + "and leaves out the words of unscored tokens (the first word when the first token begins it).");

    public void AddTo(Command command)
    {
        command.Add(_bytes);
        command.Add(_words);
    }

    public (long? Bytes, long? Words) Parse(ParseResult parse)
    {
        long? bytes = parse.GetValue(_bytes), words = parse.GetValue(_words);
        // Each bad option by name and value; one not given is not mentioned.
        var bad = new[] { (Name: "--total-bytes", Value: bytes), (Name: "--total-words", Value: words) }
            .Where(o => o.Value is < 1)
            .Select(o => $"{o.Name} must be at least 1, got {o.Value!.Value.ToString(CultureInfo.InvariantCulture)}")
            .ToList();
        return bad.Count == 0 ? (bytes, words) : throw CliException.Usage(string.Join("; ", bad) + ".");
    }

    /// <summary>Adds the rates; the bytes (words) are the given total, else those counted per scored token (--bytes, a tokenizer), else none.</summary>
    public static void AddTo(JsonObject report, PerplexityAccumulator totals, long? bytes, long? words)
    {
        if ((bytes ?? (totals.ScoredBytes > 0 ? totals.ScoredBytes : null)) is long b)
        {
            report["bits_per_byte"] = Json.Number(totals.BitsPerByte(b));
            report["byte_perplexity"] = Json.Number(totals.BytePerplexity(b));
        }

        if ((words ?? (totals.ScoredWords > 0 ? totals.ScoredWords : null)) is long w)
        {
            report["word_perplexity"] = Json.Number(totals.WordPerplexity(w));
        }
    }

    /// <summary>
    /// The whole text's bytes or words divide the NLL of the scored tokens only, so every unscored token
    /// biases the rates: accepted where at most the text's first token goes unscored (a bias of one
    /// token), refused where the windows leave more (each window's first when stride = context over
    /// several windows; each document's first where several have no prefix token).
    /// </summary>
    public static void CheckWholeText(long? bytes, long? words, long unscored, int context, int stride, WindowProtocol protocol)
    {
        if ((bytes ?? words) is null || unscored <= 1)
        {
            return;
        }

        string given = bytes is not null && words is not null ? "--total-bytes and --total-words count" : bytes is not null ? "--total-bytes counts" : "--total-words counts";
        var (why, instead) = protocol switch
        {
            WindowProtocol.Chunks => ("llama.cpp's chunks score their second halves only", "another --protocol"),
            WindowProtocol.Sliding when stride == context => ($"--stride {stride} equals --context {context}: each window's first", "a --stride below --context"),
            _ => ("each document's first, which nothing before it predicts", "a --prefix-token to predict it"),
        };
        throw CliException.Usage(
            $"{given} the whole text, but {unscored} of its tokens go unscored ({why}), so their share would count against the scored ones: "
            + $"give {instead}, or the text with --text and a --tokenizer that counts the scored tokens' own bytes and words.");
    }

    /// <summary>
    /// For merge: totals are refused where the partials count the scored tokens' own bytes or words, and
    /// for a model's text where the windows left more than the first token unscored (<see cref="CheckWholeText"/>).
    /// </summary>
    public static void CheckMerged(CorpusPartial merged, long? bytes, long? words)
    {
        var totals = merged.Evaluation!;
        if (bytes is not null && totals.ScoredBytes > 0)
        {
            throw CliException.Usage($"the partials count the bytes of their scored tokens ({totals.ScoredBytes}, from --bytes or a tokenizer): --total-bytes would replace them with the whole text's.");
        }

        if (words is not null && totals.ScoredWords > 0)
        {
            throw CliException.Usage($"the partials count the words of their scored tokens ({totals.ScoredWords}, from a tokenizer): --total-words would replace them with the whole text's.");
        }

        var source = merged.Sources[0];
        if (source.Kind == "onnx-model"
            && source.Settings.TryGetValue("tokens", out var tokens) && long.TryParse(tokens, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            && source.Settings.TryGetValue("context", out var context) && int.TryParse(context, NumberStyles.None, CultureInfo.InvariantCulture, out int c)
            && source.Settings.TryGetValue("stride", out var stride) && int.TryParse(stride, NumberStyles.None, CultureInfo.InvariantCulture, out int s))
        {
            // The prefix tokens put before documents are not the text's: they count as neither scored nor unscored.
            long documents = source.Settings.TryGetValue("documents", out var d) && long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long count) ? count : 1;
            long prefixes = source.Settings.ContainsKey("prefix_token") ? documents : 0;
            var protocol = source.Settings.TryGetValue("protocol", out var p) && p == "chunks" ? WindowProtocol.Chunks
                : p == "rolling" ? WindowProtocol.Rolling : WindowProtocol.Sliding;
            CheckWholeText(bytes, words, n - prefixes - source.Rows, c, s, protocol);
        }
    }
}
