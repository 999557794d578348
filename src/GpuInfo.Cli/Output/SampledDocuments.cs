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
        var (words, bytes) = HarnessRates.Counts(samples);
        foreach (string rate in (string[])["bits_per_byte", "byte_perplexity", "word_perplexity"])
        {
            report.Remove(rate); // the tokenizer's counts of the text as scored: the task's below
        }

        TextRates.AddTo(report, evaluation, bytes, words);
        report["task"] = "lm-evaluation-harness samples (loglikelihood_rolling)";
        report["words"] = words;
        report["bytes"] = bytes;
        HarnessRates.Add(report, "harness_", samples.Select(s => s.LogLikelihood), words, bytes);
        HarnessRates.AddDifferences(report, [.. samples.Select((s, d) => -_nll[d] - s.LogLikelihood)]);
    }
}
