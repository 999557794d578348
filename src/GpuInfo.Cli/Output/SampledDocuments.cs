using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// <c>perplexity --samples</c>: this run's log-likelihood of each document of a <c>loglikelihood_rolling</c> task's
/// samples (the losses of its rows, summed as they come), beside the harness's. The report's rates are then the task's:
/// <c>word_perplexity</c>, <c>byte_perplexity</c> and <c>bits_per_byte</c> over the words and bytes it counted (wikitext's:
/// the page as given, not as scored), with the harness's own figures from its log-likelihoods (its
/// <c>weighted_perplexity</c>: exp of minus Σ log-likelihood / Σ count) and how far the two runs' documents agree.
/// </summary>
internal sealed class SampledDocuments(IReadOnlyList<HarnessSamples.RollingSample> samples, ModelRowSource source)
{
    private readonly double[] _nll = new double[samples.Count];

    /// <summary>A row handler (the rows' losses): adds each to its document's.</summary>
    public void AddLosses(long firstRow, ReadOnlySpan<float> losses)
    {
        for (int i = 0; i < losses.Length; i++)
        {
            _nll[source.Windows.DocumentOfRow(firstRow + i)] += losses[i];
        }
    }

    public void AddTo(JsonObject report, PerplexityAccumulator evaluation)
    {
        long? words = samples.All(s => s.Words is not null) ? samples.Sum(s => s.Words!.Value) : null;
        long? bytes = samples.All(s => s.Bytes is not null) ? samples.Sum(s => s.Bytes!.Value) : null;
        foreach (string rate in (string[])["bits_per_byte", "byte_perplexity", "word_perplexity"])
        {
            report.Remove(rate); // the tokenizer's counts of the text as scored: the task's below
        }

        TextRates.AddTo(report, evaluation, bytes, words);
        report["task"] = "lm-evaluation-harness samples (loglikelihood_rolling)";
        report["words"] = words;
        report["bytes"] = bytes;
        double harness = 0;
        foreach (var sample in samples)
        {
            harness += sample.LogLikelihood; // left to right, as the harness's sum
        }

        if (words is { } w)
        {
            report["harness_word_perplexity"] = Json.Number(Math.Exp(-(harness / w)));
        }

        if (bytes is { } b)
        {
            report["harness_byte_perplexity"] = Json.Number(Math.Exp(-(harness / b)));
            report["harness_bits_per_byte"] = Json.Number(-(harness / b) / Math.Log(2));
        }

        double[] differences = [.. samples.Select((s, d) => -_nll[d] - s.LogLikelihood)];
        report["loglikelihood_diff"] = Json.Number(differences.Average());
        report["loglikelihood_diff_stderr"] = Json.Number(LoglikelihoodReport.MeanStderr(differences));
        report["loglikelihood_mean_abs_diff"] = Json.Number(differences.Average(Math.Abs));
        report["loglikelihood_max_abs_diff"] = Json.Number(differences.Max(Math.Abs));
    }
}
