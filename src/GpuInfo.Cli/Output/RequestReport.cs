using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// The report of loglikelihood requests' scores (<see cref="LoglikelihoodScores"/>): over the requests lm-evaluation-harness's
/// <c>acc</c> (the mean of <c>is_greedy</c>, with its <c>acc_stderr</c>) and <c>perplexity</c> (exp of minus the mean
/// log-likelihood), their tokens, and a line per request.
/// </summary>
internal static class RequestReport
{
    /// <summary>
    /// Each request a document (LAMBADA's): <c>requests</c>, <c>acc</c> (the share of greedy requests), <c>acc_stderr</c>,
    /// <c>perplexity</c> (exp of minus the mean log-likelihood), its <c>perplexity_stderr</c> (the harness's bootstrap over
    /// <paramref name="bootstrapIterations"/> resamples; null for none) and <c>mean_loglikelihood</c>.
    /// </summary>
    public static JsonObject Report(LoglikelihoodScores scores, int bootstrapIterations)
    {
        int n = scores.Requests;
        var greedy = Enumerable.Range(0, n).Select(d => scores.IsGreedy(d) ? 1.0 : 0.0).ToArray();
        double mean = Enumerable.Range(0, n).Sum(scores.LogLikelihood) / n;
        return new JsonObject
        {
            ["requests"] = n,
            ["acc"] = Json.Number(greedy.Average()),
            ["acc_stderr"] = Json.Number(MeanStderr(greedy)),
            ["perplexity"] = Json.Number(Math.Exp(-mean)),
            ["perplexity_stderr"] = PerplexityStderr([.. Enumerable.Range(0, n).Select(scores.LogLikelihood)], bootstrapIterations),
            ["mean_loglikelihood"] = Json.Number(mean),
        };
    }

    /// <summary>The requests' tokens: <c>continuation_tokens</c>, <c>context_tokens</c> (as the model saw them) and <c>truncated</c> (requests whose context was cut).</summary>
    public static void AddTokens(JsonObject report, LoglikelihoodScores scores)
    {
        report["continuation_tokens"] = scores.Tokens;
        report["context_tokens"] = Enumerable.Range(0, scores.Requests).Sum(d => (long)scores.ContextTokens(d));
        report["truncated"] = Enumerable.Range(0, scores.Requests).Count(scores.Truncated);
    }

    /// <summary>One JSON line per request.</summary>
    public static IEnumerable<JsonObject> Lines(LoglikelihoodScores scores, IReadOnlyList<string> names) => Enumerable.Range(0, scores.Requests).Select(d => new JsonObject
    {
        ["document"] = d,
        ["name"] = names[d],
        ["loglikelihood"] = Json.Number(scores.LogLikelihood(d)),
        ["is_greedy"] = scores.IsGreedy(d),
        ["continuation_tokens"] = scores.ContinuationTokens(d),
        ["context_tokens"] = scores.ContextTokens(d),
        ["truncated"] = scores.Truncated(d),
    });

    /// <summary>lm-evaluation-harness's bootstrap <c>perplexity_stderr</c> of per-document log-likelihoods (<see cref="HarnessBootstrap"/>); null without resamples or with one document.</summary>
    public static JsonNode? PerplexityStderr(IReadOnlyList<double> logLikelihoods, int iterations) =>
        iterations == 0 ? null : Json.Number(HarnessBootstrap.PerplexityStderr(logLikelihoods, iterations));

    /// <summary>lm-evaluation-harness's <c>mean_stderr</c>: the sample standard deviation (n − 1) over √n; null for one value.</summary>
    public static double MeanStderr(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
    }
}
