namespace GpuInfo.Models;

/// <summary>One loglikelihood request's score (<see cref="LoglikelihoodScores"/>).</summary>
/// <param name="ContextTokens">The context's tokens the model saw.</param>
/// <param name="Truncated">Whether the context was cut from the left to fit the window.</param>
public readonly record struct RequestScore(double LogLikelihood, bool IsGreedy, long ContinuationTokens, int ContextTokens, bool Truncated);

/// <summary>
/// A document's scored requests: a LAMBADA passage's or a (context, continuation) request's one, or a multiple-choice
/// document's one per choice (<see cref="Choices"/>); with <see cref="Other"/>, another run's scores of the same requests
/// (lm-evaluation-harness's, from its samples, or a base model's). What a loglikelihood run's report, per-document
/// lines and shard partials (<see cref="LoglikelihoodPartial"/>) are made of.
/// </summary>
/// <param name="Choices">The multiple-choice document (its choices and gold: its predictions' inputs), or null.</param>
public sealed record ScoredDocument(string Name, IReadOnlyList<RequestScore> Requests, MultipleChoiceDocument? Choices, IReadOnlyList<(double LogLikelihood, bool IsGreedy)>? Other)
{
    /// <summary>Which of the run's input files it came from (each file a task, as MMLU's subjects are); 0 where there is one.</summary>
    public int File { get; init; }

    /// <summary>
    /// The documents of a run's requests, in order: each multiple-choice document of <paramref name="documents"/> its
    /// choices' requests, or, where there are none, each request a document named by <paramref name="names"/>.
    /// </summary>
    /// <param name="other">Another run's scores of the same requests, in order, or null.</param>
    /// <param name="files">Each request's input file (<see cref="File"/>), or null for one file.</param>
    /// <exception cref="ArgumentException">The documents' choices, the names or the other scores do not match the requests in number.</exception>
    public static IReadOnlyList<ScoredDocument> Group(LoglikelihoodScores scores, IReadOnlyList<string> names, IReadOnlyList<MultipleChoiceDocument> documents, IReadOnlyList<(double LogLikelihood, bool IsGreedy)>? other, IReadOnlyList<int>? files = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return Group([.. Enumerable.Range(0, scores.Requests).Select(scores.Score)], names, documents, other, files);
    }

    /// <summary>As <see cref="Group(LoglikelihoodScores, IReadOnlyList{string}, IReadOnlyList{MultipleChoiceDocument}, IReadOnlyList{ValueTuple{double, bool}}?, IReadOnlyList{int}?)"/>, from the requests' scores in order.</summary>
    public static IReadOnlyList<ScoredDocument> Group(IReadOnlyList<RequestScore> scores, IReadOnlyList<string> names, IReadOnlyList<MultipleChoiceDocument> documents, IReadOnlyList<(double LogLikelihood, bool IsGreedy)>? other, IReadOnlyList<int>? files = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(documents);
        if (other is not null && other.Count != scores.Count)
        {
            throw new ArgumentException($"{other.Count} other scores of {scores.Count} requests.", nameof(other));
        }

        if (files is not null && files.Count != scores.Count)
        {
            throw new ArgumentException($"{files.Count} files of {scores.Count} requests.", nameof(files));
        }

        int total = documents.Count > 0 ? documents.Sum(d => d.Choices.Count) : names.Count;
        if (total != scores.Count)
        {
            throw new ArgumentException($"{(documents.Count > 0 ? $"{documents.Count} documents of {total} choices" : $"{total} names")} for {scores.Count} requests.", nameof(documents));
        }

        var grouped = new List<ScoredDocument>();
        int first = 0;
        for (int d = 0; first < scores.Count; d++)
        {
            var choices = documents.Count > 0 ? documents[d] : null;
            int count = choices?.Choices.Count ?? 1;
            grouped.Add(new ScoredDocument(choices?.Name ?? names[first], [.. scores.Skip(first).Take(count)], choices,
                other is null ? null : [.. other.Skip(first).Take(count)]) { File = files?[first] ?? 0 });
            first += count;
        }

        return grouped;
    }
}
