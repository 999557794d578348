using System.Globalization;
using System.Text.Json;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli;

/// <summary>A <c>loglikelihood</c> or <c>multiple_choice</c> task's samples: each document's requests, the harness's scores of them and its own metrics, checked.</summary>
internal static partial class HarnessSamples
{
    /// <summary>One logged document: its requests and the harness's score of each; for multiple choice, the document.</summary>
    internal sealed record Sample(string Name, IReadOnlyList<LoglikelihoodRequest> Requests, IReadOnlyList<(double LogLikelihood, bool IsGreedy)> Harness, MultipleChoiceDocument? Choices)
    {
        /// <summary>Which document of which file it is (<see cref="Lines"/>), to pair it with another run's.</summary>
        public string Key { get; init; } = Name;

        /// <summary>The file's place among those read (a task's, where each file is one: MMLU's subjects).</summary>
        public int File { get; init; }

        /// <summary>The metrics the harness computed for it (its <c>metrics</c> list: acc, acc_norm, f1, ...).</summary>
        public IReadOnlyList<string> Metrics { get; init; } = [];
    }

    /// <summary>Every logged document of the files, in order.</summary>
    /// <param name="labels">
    /// Where each multiple-choice document holds labels of its true choices (a dotted path into its line:
    /// truthfulqa_mc2's <c>doc.mc2_targets.labels</c>), that path: the documents are scored by the probability mass on them.
    /// </param>
    /// <exception cref="InvalidFileException">A line that is not such a log's (naming the line and the field), samples of another kind of task, of two kinds, or naming other metrics than the first.</exception>
    public static IEnumerable<Sample> Read(IReadOnlyList<string> files, string delimiter, string? labels = null)
    {
        bool? choices = null;
        Sample? first = null;
        foreach (var (name, line, key, file) in Lines(files, byFilter: false))
        {
            var sample = Parse(name, line, delimiter, labels) with { Key = key, File = file };
            if (choices is { } kind && kind != sample.Choices is not null)
            {
                throw new InvalidFileException(name, $"is a {(sample.Choices is null ? "loglikelihood" : "multiple-choice")} task's document, the lines before a {(kind ? "multiple-choice" : "loglikelihood")} task's: give one task's samples at a time.");
            }

            choices = sample.Choices is not null;
            if (first is null)
            {
                first = sample;
            }
            else if (!sample.Metrics.Order(StringComparer.Ordinal).SequenceEqual(first.Metrics.Order(StringComparer.Ordinal)))
            {
                // A group's pooled figures (and its stderr, pooled task by task) are of a metric every task computes.
                throw new InvalidFileException(name, $"names the metrics [{string.Join(", ", sample.Metrics)}], where {first.Name} names [{string.Join(", ", first.Metrics)}]: give one task's samples, or a group's whose tasks compute the same metrics (MMLU's subjects), at a time.");
            }

            yield return sample;
        }
    }

    private static Sample Parse(string name, JsonElement line, string delimiter, string? labels)
    {
        if (line.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Array
            && metrics.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString() : null).FirstOrDefault(m => m is "acc_mutual_info" or "word_perplexity" or "exact_match") is { } other)
        {
            throw new InvalidFileException(name, other == "word_perplexity"
                ? "is a loglikelihood_rolling task's document (word_perplexity): give its samples to gpuinfo perplexity --samples."
                : other == "exact_match"
                    ? "is a generated answer's document (exact_match): gpuinfo scores loglikelihood and multiple_choice tasks; compare two runs of a generate_until task with gpuinfo compare-samples."
                    : $"is scored with {other}, which gpuinfo does not compute: only loglikelihood tasks (acc, perplexity) and multiple_choice ones (acc, acc_norm).");
        }

        var arguments = Member(name, line, "arguments", JsonValueKind.Object);
        var requests = new List<LoglikelihoodRequest>();
        foreach (var (argument, i) in arguments.EnumerateObject().Select(a => (a, Index(name, a.Name))).OrderBy(a => a.Item2))
        {
            if (i != requests.Count)
            {
                throw new InvalidFileException(name, $"\"arguments\" has no \"gen_args_{requests.Count}\".");
            }

            if (argument.Value.ValueKind != JsonValueKind.Object || argument.Value.EnumerateObject().Any(a => a.Name is not ("arg_0" or "arg_1") || a.Value.ValueKind != JsonValueKind.String))
            {
                throw new InvalidFileException(name, $"\"arguments\".\"{argument.Name}\" is not a (context, continuation) request (a generate_until or loglikelihood_rolling task's samples?): gpuinfo scores loglikelihood requests.");
            }

            string context = Member(name, argument.Value, "arg_0", JsonValueKind.String).GetString()!;
            string continuation = Member(name, argument.Value, "arg_1", JsonValueKind.String).GetString()!;
            requests.Add(new LoglikelihoodRequest(requests.Count == 0 && arguments.EnumerateObject().Count() == 1 ? name : $"{name} request {i}", context, continuation));
        }

        if (requests.Count == 0)
        {
            throw new InvalidFileException(name, "\"arguments\" holds no requests.");
        }

        var responses = Member(name, line, "filtered_resps", JsonValueKind.Array);
        var harness = responses.EnumerateArray().Select((r, i) => Response(name, i, r)).ToList();
        if (harness.Count != requests.Count)
        {
            throw new InvalidFileException(name, $"has {requests.Count} requests and {harness.Count} \"filtered_resps\".");
        }

        if (labels is not null && requests.Count == 1)
        {
            throw new InvalidFileException(name, "--labels-field: a document of one request (a loglikelihood task's) has no choices to label.");
        }

        IReadOnlyList<string> named = line.TryGetProperty("metrics", out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.String).Select(m => m.GetString()!)] : [];
        return Verified(line, new Sample(name, requests, harness, requests.Count > 1 ? Document(name, line, requests, harness, delimiter, labels) : null) { Metrics = named });
    }

    /// <summary>
    /// The sample, where the metrics it logs are the ones the harness's default scoring gives its log-likelihoods (a
    /// loglikelihood task's <c>acc</c> its greedy flag and <c>perplexity</c> its log-likelihood; a multiple-choice one's
    /// <c>acc</c> and <c>acc_norm</c> its predictions against its gold): a task with a <c>process_results</c> of its own
    /// (truthfulqa_mc2's probability mass on the true answers, logged as <c>acc</c>) means something else by them.
    /// </summary>
    private static Sample Verified(JsonElement line, Sample sample)
    {
        var expected = new List<(string Metric, double Value)>();
        if (sample.Choices is { Labels: not null } labelled)
        {
            expected.Add(("acc", labelled.TrueMass([.. sample.Harness.Select(h => h.LogLikelihood)])));
        }
        else if (sample.Choices is { } document)
        {
            double[] lls = [.. sample.Harness.Select(h => h.LogLikelihood)];
            var (prediction, normalized) = document.Predict(lls);
            expected.Add(("acc", prediction == document.Gold ? 1 : 0));
            expected.Add(("acc_norm", normalized == document.Gold ? 1 : 0));
            expected.Add(("acc_bytes", document.PredictBytes(lls) == document.Gold ? 1 : 0));
            foreach (string pair in (string[])["f1", "mcc"])
            {
                // The harness logs (gold, prediction) for the task's aggregation.
                if (line.TryGetProperty(pair, out var logged) && !(logged.ValueKind == JsonValueKind.Array && logged.GetArrayLength() == 2
                    && Number(logged[0]) == document.Gold && Number(logged[1]) == prediction))
                {
                    throw new InvalidFileException(sample.Name, $"logs {pair} {Shorten(logged.GetRawText())}, where its gold and log-likelihoods give [{document.Gold}, {prediction}] (gold, prediction) as the harness's multiple_choice scoring does.");
                }
            }
        }
        else
        {
            expected.Add(("acc", sample.Harness[0].IsGreedy ? 1 : 0));
            expected.Add(("perplexity", sample.Harness[0].LogLikelihood));
        }

        foreach (var (metric, value) in expected)
        {
            // A probability mass is formed otherwise than the harness forms it (Σ over exp(ll) as they are): equal but for rounding.
            double slack = sample.Choices?.Labels is null ? 0 : 1e-12;
            if (line.TryGetProperty(metric, out var logged) && Number(logged) is var got && !(got == value || Math.Abs((got ?? double.NaN) - value) <= slack || (got is { } g && double.IsNaN(g) && double.IsNaN(value))))
            {
                throw new InvalidFileException(sample.Name, sample.Choices?.Labels is not null
                    ? $"logs {metric} {Shorten(logged.GetRawText())}, where its log-likelihoods give a probability mass of {value.ToString(CultureInfo.InvariantCulture)} on the true choices its labels name, as truthfulqa_mc2 scores them: are they its labels?"
                    : $"logs {metric} {Shorten(logged.GetRawText())}, where its log-likelihoods{(sample.Choices is null ? "" : " and gold")} give {value.ToString(CultureInfo.InvariantCulture)} as the harness's {(sample.Choices is null ? "loglikelihood" : "multiple_choice")} scoring does: a task that scores its documents its own way, which gpuinfo does not compute{(Find(line, Mc2Labels) is not null ? $" (a truthfulqa_mc2 document: give --labels-field {Mc2Labels})" : "")}.");
            }
        }

        return sample;
    }

    /// <summary>
    /// A multiple-choice document: the requests share a context, the choices are the continuations after the delimiter and
    /// the gold is the target's index or text; or a <c>multiple_input</c> task's (<see cref="MultipleInput"/>).
    /// </summary>
    private static MultipleChoiceDocument Document(string name, JsonElement line, List<LoglikelihoodRequest> requests, List<(double LogLikelihood, bool)> harness, string delimiter, string? labels)
    {
        int stray = requests.FindIndex(r => !r.Continuation.StartsWith(delimiter, StringComparison.Ordinal));
        if (stray >= 0)
        {
            throw new InvalidFileException(name, $"has a continuation ('{requests[stray].Continuation}') that does not begin with the target delimiter '{delimiter}': give the task's --target-delimiter.");
        }

        if (requests.Any(r => r.Context != requests[0].Context))
        {
            return labels is null ? MultipleInput(name, line, requests, harness, delimiter)
                : throw new InvalidFileException(name, "--labels-field: a multiple_input task's document (its choices are contexts) is scored by its gold alone.");
        }

        var choices = requests.Select(r => r.Continuation[delimiter.Length..]).ToList();
        var target = Member(name, line, "target", null);
        string text = target.ValueKind == JsonValueKind.String ? target.GetString()! : target.GetRawText();
        int gold = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? index
            : choices.IndexOf(text) is >= 0 and var found ? found
            : throw new InvalidFileException(name, $"\"target\" is '{text}', neither a choice's index nor one of its {choices.Count} choices.");
        return Checked(new MultipleChoiceDocument(name, requests[0].Context, choices, gold) { Labels = labels is null ? null : Labels(name, line, labels) });
    }

    /// <summary>
    /// A <c>multiple_input</c> task's document (Winogrande's, xwinograd's, wsc273's): each choice a context, every one scored
    /// with the same continuation. The harness's gold is its <c>doc_to_text</c>'s index, which the log leaves out (its
    /// <c>target</c> is the continuation), so it is recovered from the logged <c>acc</c> and the harness's own log-likelihoods:
    /// the harness's prediction where <c>acc</c> is 1, the other choice of two where it is 0. Over more choices a wrong
    /// prediction leaves the gold open, and the line is refused.
    /// </summary>
    private static MultipleChoiceDocument MultipleInput(string name, JsonElement line, List<LoglikelihoodRequest> requests, List<(double LogLikelihood, bool)> harness, string delimiter)
    {
        int other = requests.FindIndex(r => r.Continuation != requests[0].Continuation);
        if (other >= 0)
        {
            throw new InvalidFileException(name, $"has requests of other contexts and other continuations ('{Shorten(requests[0].Continuation)}', '{Shorten(requests[other].Continuation)}'): neither a multiple_choice task's (one context) nor a multiple_input one's (one continuation).");
        }

        var choices = requests.Select(r => r.Context).ToList();
        var acc = line.TryGetProperty("acc", out var logged) ? Number(logged) : null;
        if (acc is not (0 or 1))
        {
            throw new InvalidFileException(name, $"is a multiple_input task's document (its choices are contexts), whose gold the log leaves out, and its \"acc\" is {(acc is null ? "missing or not a number" : acc.Value.ToString(CultureInfo.InvariantCulture))}, not 0 or 1, to recover it from.");
        }

        var document = new MultipleChoiceDocument(name, "", choices, 0) { SharedContinuation = requests[0].Continuation[delimiter.Length..] };
        int prediction = document.Predict([.. harness.Select(h => h.LogLikelihood)]).Prediction;
        if (acc == 0 && choices.Count != 2)
        {
            throw new InvalidFileException(name, $"is a multiple_input task's document of {choices.Count} choices, whose gold the log leaves out, and the harness's prediction was wrong (acc 0): it could be any other choice.");
        }

        return Checked(document with { Gold = acc == 1 ? prediction : 1 - prediction });
    }

    /// <summary>The document, or its fault (no choices, an empty one, a gold out of range) as a one-line error naming its line.</summary>
    internal static MultipleChoiceDocument Checked(MultipleChoiceDocument document)
    {
        try
        {
            document.Validate();
            return document;
        }
        catch (ArgumentException e)
        {
            throw new InvalidFileException(document.Name, e.Message.Split('\n')[0].Replace($"{document.Name}: ", "", StringComparison.Ordinal).Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
    }

    /// <summary>Where truthfulqa_mc2's samples hold each document's labels of its true choices.</summary>
    internal const string Mc2Labels = "doc.mc2_targets.labels";

    /// <summary>The labels of a document's true choices at <paramref name="path"/>: a JSON array of 0 and 1 (or false and true), one per choice (checked by <see cref="MultipleChoiceDocument.Validate"/>).</summary>
    internal static bool[] Labels(string name, JsonElement line, string path)
    {
        var found = Find(line, path) ?? throw new InvalidFileException(name, $"has no \"{path}\" (--labels-field names it).");
        var labels = found.ValueKind == JsonValueKind.Array ? found.EnumerateArray().Select(l => l.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when l.TryGetInt32(out int v) && v is 0 or 1 => v == 1,
            _ => (bool?)null,
        }).ToArray() : null;
        return labels is not null && labels.All(l => l is not null) ? [.. labels.Select(l => l!.Value)]
            : throw new InvalidFileException(name, $"\"{path}\" is {Shorten(found.GetRawText())}, not an array of labels 0 or 1 (one per choice).");
    }

    /// <summary>The i of <c>gen_args_i</c>.</summary>
    private static int Index(string name, string argument) =>
        argument.StartsWith("gen_args_", StringComparison.Ordinal) && int.TryParse(argument.AsSpan("gen_args_".Length), NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i
        : throw new InvalidFileException(name, $"\"arguments\" holds \"{argument}\", not gen_args_0, gen_args_1, ...");

    /// <summary>A filtered response, [log-likelihood, is_greedy], as the harness writes it (strings: "-1.25", "False") or as JSON values.</summary>
    private static (double, bool) Response(string name, int i, JsonElement response)
    {
        var parts = response.ValueKind == JsonValueKind.Array ? response.EnumerateArray().ToArray() : [];
        double? ll = parts.Length == 2 ? Number(parts[0]) : null;
        bool? greedy = parts.Length == 2 ? parts[1].ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when parts[1].GetString() is "True" or "False" => parts[1].GetString() == "True",
            _ => null,
        } : null;
        return ll is { } l && greedy is { } g ? (l, g)
            : throw new InvalidFileException(name, $"\"filtered_resps\"[{i}] is {Shorten(response.GetRawText())}, not a [log-likelihood, is_greedy] pair.");
    }
}
