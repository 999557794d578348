using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// A document of one of lm-evaluation-harness's <c>multiple_choice</c> tasks (HellaSwag, ARC, PIQA, ...), as its
/// templates render it: the context (<c>doc_to_text</c>), the choices (<c>doc_to_choice</c>) and the index of the
/// right one (<c>doc_to_target</c>). Its requests are the context with each choice after the task's
/// <c>target_delimiter</c>, and <see cref="Predict"/> is its <c>process_results</c>'s <c>acc</c> and <c>acc_norm</c>.
/// </summary>
/// <param name="Name">What reports and errors call it (its file and line).</param>
public sealed record MultipleChoiceDocument(string Name, string Context, IReadOnlyList<string> Choices, int Gold)
{
    /// <summary>
    /// Where the choices are contexts (a <c>multiple_input</c> task's, as Winogrande's: each option's sentence up to the
    /// blank), the continuation every one of them is scored with; null where each choice is a continuation of <see cref="Context"/>.
    /// </summary>
    public string? SharedContinuation { get; init; }

    /// <summary>
    /// Which choices are true, where a document has several (TruthfulQA's <c>mc2_targets.labels</c>); the document is then
    /// scored as the harness's <c>truthfulqa_mc2</c> scores it, by the probability mass on the true choices
    /// (<see cref="TrueMass"/>); null where <see cref="Gold"/> alone is right.
    /// </summary>
    public IReadOnlyList<bool>? Labels { get; init; }

    /// <summary>
    /// The probability mass on the true choices (<see cref="Labels"/>) when the choices' probabilities are their
    /// likelihoods renormalised over the choices: Σ_{true} exp(ll_i) / Σ exp(ll_i), lm-evaluation-harness's
    /// <c>process_results_mc2</c> (truthfulqa_mc2's <c>acc</c>). Formed with the largest log-likelihood subtracted first,
    /// where the harness takes exp of each as it is: the same figure but for rounding, and a figure where every choice's
    /// likelihood is below a double's range (log-likelihoods under −745), which the harness gives as NaN.
    /// </summary>
    /// <exception cref="InvalidOperationException">The document has no <see cref="Labels"/>.</exception>
    /// <exception cref="ArgumentException">Not one log-likelihood per choice.</exception>
    public double TrueMass(ReadOnlySpan<double> loglikelihoods)
    {
        var labels = Labels ?? throw new InvalidOperationException($"{Name}: no labels of true choices.");
        if (loglikelihoods.Length != Choices.Count)
        {
            throw new ArgumentException($"expected {Choices.Count} log-likelihoods (one per choice), got {loglikelihoods.Length}.", nameof(loglikelihoods));
        }

        double max = double.NegativeInfinity;
        foreach (double ll in loglikelihoods)
        {
            max = Math.Max(max, ll);
        }

        if (double.IsNegativeInfinity(max))
        {
            return double.NaN; // no choice has any likelihood: 0/0, as the harness's
        }

        double total = 0, onTrue = 0;
        for (int i = 0; i < loglikelihoods.Length; i++)
        {
            double p = Math.Exp(loglikelihoods[i] - max);
            total += p;
            onTrue += labels[i] ? p : 0;
        }

        return onTrue / total;
    }

    /// <summary>
    /// One request per choice, in order, as <c>construct_requests</c> makes them: (context, <paramref name="delimiter"/> + choice),
    /// or for choices that are contexts (<see cref="SharedContinuation"/>), (choice, <paramref name="delimiter"/> + continuation).
    /// </summary>
    public IEnumerable<LoglikelihoodRequest> Requests(string delimiter = " ")
    {
        ArgumentNullException.ThrowIfNull(delimiter);
        return SharedContinuation is { } continuation
            ? Choices.Select(choice => new LoglikelihoodRequest(Name, choice, delimiter + continuation))
            : Choices.Select(choice => new LoglikelihoodRequest(Name, Context, delimiter + choice));
    }

    /// <summary>
    /// The choice of the largest log-likelihood, and of the largest log-likelihood per character of the choice
    /// (Python's <c>len</c>: code points, the delimiter left out; a <c>multiple_input</c> task's choices too, as the harness
    /// measures them); each the first of equals, as <c>np.argmax</c>.
    /// The document is right under <c>acc</c> where the first is <see cref="Gold"/>, under <c>acc_norm</c> where the second is.
    /// </summary>
    /// <exception cref="ArgumentException">Not one log-likelihood per choice.</exception>
    public (int Prediction, int NormalizedPrediction) Predict(ReadOnlySpan<double> loglikelihoods)
    {
        if (loglikelihoods.Length != Choices.Count)
        {
            throw new ArgumentException($"expected {Choices.Count} log-likelihoods (one per choice), got {loglikelihoods.Length}.", nameof(loglikelihoods));
        }

        int best = 0, bestNormalized = 0;
        for (int i = 1; i < Choices.Count; i++)
        {
            best = loglikelihoods[i] > loglikelihoods[best] ? i : best;
            bestNormalized = loglikelihoods[i] / Characters(Choices[i]) > loglikelihoods[bestNormalized] / Characters(Choices[bestNormalized]) ? i : bestNormalized;
        }

        return (best, bestNormalized);
    }

    /// <summary>
    /// The choice of the largest log-likelihood per UTF-8 byte of the choice, the first of equals: the harness's
    /// <c>pred_byte</c>, right under its <c>acc_bytes</c> where it is <see cref="Gold"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Not one log-likelihood per choice.</exception>
    public int PredictBytes(ReadOnlySpan<double> loglikelihoods)
    {
        if (loglikelihoods.Length != Choices.Count)
        {
            throw new ArgumentException($"expected {Choices.Count} log-likelihoods (one per choice), got {loglikelihoods.Length}.", nameof(loglikelihoods));
        }

        int best = 0;
        for (int i = 1; i < Choices.Count; i++)
        {
            best = loglikelihoods[i] / Encoding.UTF8.GetByteCount(Choices[i]) > loglikelihoods[best] / Encoding.UTF8.GetByteCount(Choices[best]) ? i : best;
        }

        return best;
    }

    /// <summary>Checks the document as lm-evaluation-harness would need it: choices, none empty, a gold among them, and a label per choice where there are labels.</summary>
    /// <exception cref="ArgumentException">No choices, an empty one (its per-character score would divide by 0), a gold out of range, or labels not one per choice.</exception>
    public void Validate()
    {
        if (Choices is null || Choices.Count == 0)
        {
            throw new ArgumentException($"{Name}: no choices.", nameof(Choices));
        }

        if (Choices.Select((c, i) => string.IsNullOrEmpty(c) ? i : -1).FirstOrDefault(i => i >= 0, -1) is >= 0 and var empty)
        {
            throw new ArgumentException($"{Name}: choice {empty} is empty (acc_norm divides its log-likelihood by its length).", nameof(Choices));
        }

        if (Gold < 0 || Gold >= Choices.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(Gold), Gold, $"{Name}: the gold choice must be 0 to {Choices.Count - 1}.");
        }

        if (Labels is { } labels && labels.Count != Choices.Count)
        {
            throw new ArgumentException($"{Name}: {labels.Count} labels of true choices for {Choices.Count} choices.", nameof(Labels));
        }
    }

    private static int Characters(string text) => text.EnumerateRunes().Count();
}
