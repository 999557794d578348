using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Output;

/// <summary>
/// A <c>loglikelihood_rolling</c> task's figures as lm-evaluation-harness aggregates its documents' log-likelihoods
/// (its <c>weighted_perplexity</c> and <c>bits_per_byte</c>: Σ log-likelihood over Σ words or bytes the task counted),
/// and the paired differences of two runs' documents: what <c>perplexity --samples</c> and <c>compare-samples</c> share.
/// </summary>
internal static class HarnessRates
{
    /// <summary>The words and bytes the task counted over the documents; null where a document has no such count.</summary>
    public static (long? Words, long? Bytes) Counts(IEnumerable<HarnessSamples.RollingSample> samples)
    {
        var list = samples as IReadOnlyCollection<HarnessSamples.RollingSample> ?? [.. samples];
        return (list.All(s => s.Words is not null) ? list.Sum(s => s.Words!.Value) : null, list.All(s => s.Bytes is not null) ? list.Sum(s => s.Bytes!.Value) : null);
    }

    /// <summary><c>{prefix}word_perplexity</c>, <c>{prefix}byte_perplexity</c> and <c>{prefix}bits_per_byte</c> of the log-likelihoods, summed left to right as the harness's <c>sum</c>.</summary>
    public static void Add(JsonObject report, string prefix, IEnumerable<double> logLikelihoods, long? words, long? bytes)
    {
        double total = 0;
        foreach (double ll in logLikelihoods)
        {
            total += ll;
        }

        if (words is { } w)
        {
            report[$"{prefix}word_perplexity"] = Json.Number(Math.Exp(-(total / w)));
        }

        if (bytes is { } b)
        {
            report[$"{prefix}byte_perplexity"] = Json.Number(Math.Exp(-(total / b)));
            report[$"{prefix}bits_per_byte"] = Json.Number(-(total / b) / Math.Log(2));
        }
    }

    /// <summary>The documents' paired differences (one run's log-likelihood less the other's): <c>loglikelihood_diff</c> ± <c>loglikelihood_diff_stderr</c>, and their mean and largest size.</summary>
    public static void AddDifferences(JsonObject report, double[] differences)
    {
        report["loglikelihood_diff"] = Json.Number(differences.Average());
        report["loglikelihood_diff_stderr"] = Json.Number(LoglikelihoodReport.MeanStderr(differences));
        report["loglikelihood_mean_abs_diff"] = Json.Number(differences.Average(Math.Abs));
        report["loglikelihood_max_abs_diff"] = Json.Number(differences.Max(Math.Abs));
    }
}
