using System.Text.Json;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>A <c>loglikelihood_rolling</c> task's samples (wikitext's): each document's text, log-likelihood, words and bytes.</summary>
internal static partial class HarnessSamples
{
    /// <summary>
    /// One logged document of a <c>loglikelihood_rolling</c> task (wikitext's): its text as the harness scored it
    /// (<c>arguments.gen_args_0.arg_0</c>), the harness's log-likelihood of it (<c>filtered_resps</c>[0]), and its words and
    /// bytes as the task counted them (the second value of <c>word_perplexity</c> and of <c>byte_perplexity</c> or
    /// <c>bits_per_byte</c>; null where the task reports none): wikitext's count the page as given, not as scored.
    /// </summary>
    internal sealed record RollingSample(string Name, string Text, double LogLikelihood, long? Words, long? Bytes)
    {
        /// <summary>Which document of which file it is (<see cref="Lines"/>).</summary>
        public string Key { get; init; } = Name;
    }

    /// <summary>Every logged document of a <c>loglikelihood_rolling</c> task's samples files, in order.</summary>
    /// <exception cref="InvalidFileException">A line that is not such a task's sample, naming the line and the field.</exception>
    public static IEnumerable<RollingSample> ReadRolling(IReadOnlyList<string> files)
    {
        foreach (var (name, line, key, _) in Lines(files, byFilter: false))
        {
            var arguments = Member(name, line, "arguments", JsonValueKind.Object);
            if (arguments.EnumerateObject().Count() != 1 || !arguments.TryGetProperty("gen_args_0", out var request) || request.ValueKind != JsonValueKind.Object
                || request.EnumerateObject().Count() != 1 || !request.TryGetProperty("arg_0", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new InvalidFileException(name, "\"arguments\" is not one text (a loglikelihood_rolling task's gen_args_0.arg_0): give a loglikelihood or multiple_choice task's samples to gpuinfo loglikelihood.");
            }

            var responses = Member(name, line, "filtered_resps", JsonValueKind.Array).EnumerateArray().ToArray();
            double ll = responses.Length == 1 && Number(responses[0]) is { } value ? value
                : throw new InvalidFileException(name, $"\"filtered_resps\" is {Shorten(line.GetProperty("filtered_resps").GetRawText())}, not one log-likelihood.");
            long? words = Count(name, line, "word_perplexity", ll), bytes = Count(name, line, "byte_perplexity", ll) ?? Count(name, line, "bits_per_byte", ll);
            if ((words ?? bytes) is null)
            {
                throw new InvalidFileException(name, "has no \"word_perplexity\", \"byte_perplexity\" or \"bits_per_byte\" (its words and bytes as the task counted them).");
            }

            yield return new RollingSample(name, text.GetString()!, ll, words, bytes) { Key = key };
        }
    }

    /// <summary>The count of a logged [log-likelihood, count] metric, checked against the document's log-likelihood; null where the sample has no such metric.</summary>
    private static long? Count(string name, JsonElement line, string metric, double ll)
    {
        if (!line.TryGetProperty(metric, out var pair))
        {
            return null;
        }

        var parts = pair.ValueKind == JsonValueKind.Array ? pair.EnumerateArray().ToArray() : [];
        return parts.Length == 2 && Number(parts[0]) is { } logged && (logged == ll || (double.IsNaN(logged) && double.IsNaN(ll)))
            && Number(parts[1]) is { } count && count == Math.Floor(count) && count is >= 1 and <= long.MaxValue ? (long)count
            : throw new InvalidFileException(name, $"\"{metric}\" is {Shorten(pair.GetRawText())}, not [its log-likelihood, a count of at least 1].");
    }
}
