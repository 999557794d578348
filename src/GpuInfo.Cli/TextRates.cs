using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;

namespace GpuInfo.Cli;

/// <summary>
/// --total-bytes and --total-words: the size of the text a corpus's tokens encode, for the rates
/// lm-evaluation-harness reports (bits per byte, byte and word perplexity).
/// </summary>
internal sealed class TextRates
{
    private readonly Option<long?> _bytes = new("--total-bytes") { Description = "Bytes (UTF-8) of the text the scored tokens encode: adds bits_per_byte and byte_perplexity." };
    private readonly Option<long?> _words = new("--total-words") { Description = "Words of that text: adds word_perplexity." };

    public void AddTo(Command command)
    {
        command.Add(_bytes);
        command.Add(_words);
    }

    public (long? Bytes, long? Words) Parse(ParseResult parse)
    {
        long? bytes = parse.GetValue(_bytes), words = parse.GetValue(_words);
        if (bytes is < 1 || words is < 1)
        {
            throw CliException.Usage($"--total-bytes and --total-words must be at least 1, got {bytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} and {words?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}.");
        }

        return (bytes, words);
    }

    /// <summary>Adds the rates; the bytes are the given total, else those counted per token (--bytes), else none.</summary>
    public static void AddTo(JsonObject report, PerplexityAccumulator totals, long? bytes, long? words)
    {
        if ((bytes ?? (totals.ScoredBytes > 0 ? totals.ScoredBytes : null)) is long b)
        {
            report["bits_per_byte"] = Json.Number(totals.BitsPerByte(b));
            report["byte_perplexity"] = Json.Number(totals.BytePerplexity(b));
        }

        if (words is long w)
        {
            report["word_perplexity"] = Json.Number(totals.WordPerplexity(w));
        }
    }
}
