using System.Text.Json;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>Any task's samples by the metrics the harness logged for each document (a <c>generate_until</c> task's: GSM8K's).</summary>
internal static partial class HarnessSamples
{
    /// <summary>
    /// One logged line of any task (a <c>generate_until</c> task's, GSM8K's, as well) by what the harness logged of it:
    /// its <c>doc_id</c>, <c>filter</c> (GSM8K logs each document once per filter: strict-match, flexible-extract) and
    /// <c>arguments</c> (what was asked, to pair it with another run's), and each metric its <c>metrics</c> list names whose
    /// per-sample value is a number (or true/false: 1/0); <see cref="Unpaired"/>, those whose value is not (f1's and
    /// mcc's [gold, prediction] pairs, which the harness aggregates over the whole task).
    /// </summary>
    internal sealed record LoggedSample(string Name, string Key, int File, string Filter, string Arguments, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Unpaired);

    /// <summary>Every line of the files as the harness logged it (<see cref="LoggedSample"/>), in order.</summary>
    /// <exception cref="InvalidFileException">A line without <c>doc_id</c>, <c>arguments</c> or a list of <c>metrics</c>, or a metric it names but does not hold.</exception>
    public static IEnumerable<LoggedSample> ReadLogged(IReadOnlyList<string> files)
    {
        foreach (var (name, line, key, file) in Lines(files, byFilter: true))
        {
            var arguments = Member(name, line, "arguments", null);
            string filter = line.TryGetProperty("filter", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "none";
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            var unpaired = new List<string>();
            foreach (var metric in Member(name, line, "metrics", JsonValueKind.Array).EnumerateArray())
            {
                string metricName = metric.ValueKind == JsonValueKind.String ? metric.GetString()!
                    : throw new InvalidFileException(name, $"\"metrics\" holds {Shorten(metric.GetRawText())}, not a metric's name.");
                var value = line.TryGetProperty(metricName, out var v) ? v
                    : throw new InvalidFileException(name, $"names the metric \"{metricName}\" but holds no value of it.");
                double? number = value.ValueKind switch
                {
                    JsonValueKind.True => 1,
                    JsonValueKind.False => 0,
                    _ => Number(value),
                };
                if (number is { } n)
                {
                    metrics[metricName] = n;
                }
                else
                {
                    unpaired.Add(metricName);
                }
            }

            yield return new LoggedSample(name, key, file, filter, arguments.GetRawText(), metrics, unpaired);
        }
    }
}
