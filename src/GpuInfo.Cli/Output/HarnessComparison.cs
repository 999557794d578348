using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// This run's scores beside another's of the same requests: those lm-evaluation-harness logged (<see cref="HarnessSamples"/>,
/// named "harness") or a base model's (<c>--base</c>, "base"): the other run's figures, computed from its log-likelihoods
/// as this run's are from its own, and how far the two runs' log-likelihoods, greedy tokens and predictions agree
/// (a quantization, an export or another runtime against its base).
/// </summary>
internal static class HarnessComparison
{
    /// <param name="choices">This run's multiple-choice documents and predictions, or null where each request is a document.</param>
    /// <param name="bootstrapIterations">Resamples of the other run's bootstrap <c>perplexity_stderr</c>, 0 for none.</param>
    public static void AddTo(JsonObject report, string name, LoglikelihoodScores scores, IReadOnlyList<(double LogLikelihood, bool IsGreedy)> harness, ChoiceScores? choices, int bootstrapIterations)
    {
        int n = harness.Count;
        var differences = Enumerable.Range(0, n).Select(r => Math.Abs(scores.LogLikelihood(r) - harness[r].LogLikelihood)).ToArray();
        if (choices is { Documents: var documents })
        {
            int first = 0;
            double acc = 0, accNorm = 0, same = 0, sameNorm = 0;
            for (int d = 0; d < documents.Count; d++)
            {
                var document = documents[d];
                int count = document.Choices.Count;
                var theirs = document.Predict([.. harness.Skip(first).Take(count).Select(h => h.LogLikelihood)]);
                var ours = choices.Prediction(d);
                acc += theirs.Prediction == document.Gold ? 1 : 0;
                accNorm += theirs.NormalizedPrediction == document.Gold ? 1 : 0;
                same += theirs.Prediction == ours.Prediction ? 1 : 0;
                sameNorm += theirs.NormalizedPrediction == ours.Normalized ? 1 : 0;
                first += count;
            }

            report[$"{name}_acc"] = Json.Number(acc / documents.Count);
            report[$"{name}_acc_norm"] = Json.Number(accNorm / documents.Count);
            report["same_prediction"] = Json.Number(same / documents.Count);
            report["same_prediction_norm"] = Json.Number(sameNorm / documents.Count);
        }
        else
        {
            report[$"{name}_acc"] = Json.Number(harness.Average(h => h.IsGreedy ? 1.0 : 0.0));
            report[$"{name}_perplexity"] = Json.Number(Math.Exp(-harness.Average(h => h.LogLikelihood)));
            report[$"{name}_perplexity_stderr"] = RequestReport.PerplexityStderr([.. harness.Select(h => h.LogLikelihood)], bootstrapIterations);
        }

        report["same_is_greedy"] = Json.Number(Enumerable.Range(0, n).Average(r => scores.IsGreedy(r) == harness[r].IsGreedy ? 1.0 : 0.0));
        report["loglikelihood_mean_abs_diff"] = Json.Number(differences.Average());
        report["loglikelihood_max_abs_diff"] = Json.Number(differences.Max());
    }
}
