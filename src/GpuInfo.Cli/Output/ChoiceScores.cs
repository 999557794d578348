using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Multiple-choice documents scored from their requests (one per choice, in order): lm-evaluation-harness's
/// <c>acc</c> and <c>acc_norm</c> (<see cref="MultipleChoiceDocument.Predict"/>), each with its <c>mean_stderr</c>.
/// </summary>
internal sealed class ChoiceScores
{
    private readonly IReadOnlyList<MultipleChoiceDocument> _documents;
    private readonly LoglikelihoodScores _requests;
    private readonly int[] _firstRequest;
    private readonly (int Prediction, int Normalized)[] _predictions;

    public ChoiceScores(IReadOnlyList<MultipleChoiceDocument> documents, LoglikelihoodScores requests)
    {
        _documents = documents;
        _requests = requests;
        _firstRequest = new int[documents.Count + 1];
        for (int d = 0; d < documents.Count; d++)
        {
            _firstRequest[d + 1] = _firstRequest[d] + documents[d].Choices.Count;
        }

        if (_firstRequest[^1] != requests.Requests)
        {
            throw new InvalidOperationException($"{documents.Count} documents of {_firstRequest[^1]} choices, {requests.Requests} requests scored.");
        }

        _predictions = [.. documents.Select((document, d) => document.Predict(LogLikelihoods(d)))];
    }

    public IReadOnlyList<MultipleChoiceDocument> Documents => _documents;

    /// <summary>Document <paramref name="document"/>'s choice of the largest log-likelihood, and of the largest per character.</summary>
    public (int Prediction, int Normalized) Prediction(int document) => _predictions[document];

    /// <summary><c>documents</c>, <c>requests</c>, <c>acc</c>, <c>acc_stderr</c>, <c>acc_norm</c>, <c>acc_norm_stderr</c>.</summary>
    public JsonObject Report()
    {
        var acc = _predictions.Select((p, d) => p.Prediction == _documents[d].Gold ? 1.0 : 0.0).ToArray();
        var accNorm = _predictions.Select((p, d) => p.Normalized == _documents[d].Gold ? 1.0 : 0.0).ToArray();
        return new JsonObject
        {
            ["documents"] = _documents.Count,
            ["requests"] = _requests.Requests,
            ["acc"] = Json.Number(acc.Average()),
            ["acc_stderr"] = Json.Number(RequestReport.MeanStderr(acc)),
            ["acc_norm"] = Json.Number(accNorm.Average()),
            ["acc_norm_stderr"] = Json.Number(RequestReport.MeanStderr(accNorm)),
        };
    }

    /// <summary>One JSON line per document: its gold, predictions, and each choice's log-likelihood, greediness and tokens.</summary>
    public IEnumerable<JsonObject> Lines() => _documents.Select((document, d) =>
    {
        var requests = Enumerable.Range(_firstRequest[d], document.Choices.Count).ToArray();
        return new JsonObject
        {
            ["document"] = d,
            ["name"] = document.Name,
            ["gold"] = document.Gold,
            ["prediction"] = _predictions[d].Prediction,
            ["prediction_norm"] = _predictions[d].Normalized,
            ["acc"] = _predictions[d].Prediction == document.Gold ? 1 : 0,
            ["acc_norm"] = _predictions[d].Normalized == document.Gold ? 1 : 0,
            ["loglikelihoods"] = new JsonArray([.. requests.Select(r => Json.Number(_requests.LogLikelihood(r)))]),
            ["is_greedy"] = new JsonArray([.. requests.Select(r => (JsonNode)_requests.IsGreedy(r))]),
            ["continuation_tokens"] = new JsonArray([.. requests.Select(r => (JsonNode)_requests.ContinuationTokens(r))]),
            ["truncated"] = requests.Count(_requests.Truncated),
        };
    });

    private double[] LogLikelihoods(int document) =>
        [.. Enumerable.Range(_firstRequest[document], _documents[document].Choices.Count).Select(_requests.LogLikelihood)];
}
