using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// llama.cpp's HellaSwag score (<c>llama-perplexity --hellaswag -f hellaswag_val_full.txt [--hellaswag-tasks N]</c>,
/// <c>hellaswag_score</c> in tools/perplexity/perplexity.cpp) of any model: the same tasks, tokens and scoring.
/// </summary>
/// <remarks>
/// <para>The file holds 6 lines a task: the context, the gold ending's index, and the four endings. llama.cpp always
/// takes its tasks in a random order, <c>std::mt19937(1)</c> drawing each from those left with
/// <c>std::uniform_int_distribution&lt;size_t&gt;</c>; with N below the file's count the N drawn first are scored
/// (<see cref="Select"/>, as libstdc++ draws: a Linux build's), else all (in any order: the score is the same).</para>
/// <para>Each ending is scored as the text context + " " + ending tokenized with the tokens the tokenizer adds (a
/// BOS), from the first token where the four sequences differ (their common prefix, shared) to their end: the mean
/// log-probability of those tokens. The prediction is the ending of the largest mean (the first of equals), and
/// <c>acc_norm</c> the share of tasks predicted right, with the Wilson 95% interval llama.cpp prints.</para>
/// </remarks>
public static class LlamaCppHellaSwag
{
    /// <summary>A task: its place in the file (from 0), context, gold ending and four endings.</summary>
    public sealed record Task(int Index, string Context, int Gold, IReadOnlyList<string> Endings);

    /// <summary>The tasks of a file in llama.cpp's layout, in order.</summary>
    /// <exception cref="InvalidFileException">Lines not a multiple of 6 (none at all included), or a gold line that is not 0 to 3, naming the line.</exception>
    public static IReadOnlyList<Task> Read(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        // As std::getline splits the file llama.cpp read (a final line break ends the last line; '\r' stays in it).
        var lines = text.Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        if (lines.Count == 0 || lines.Count % 6 != 0)
        {
            throw new InvalidFileException(path, $"has {lines.Count} lines, not a multiple of 6: llama.cpp's HellaSwag file holds a context, the gold ending's index and four endings a task.");
        }

        var tasks = new List<Task>(lines.Count / 6);
        for (int t = 0; t < lines.Count / 6; t++)
        {
            string gold = lines[(6 * t) + 1];
            if (!int.TryParse(gold.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index) || index > 3)
            {
                throw new InvalidFileException($"{path}:{(6 * t) + 2}", $"is '{(gold.Length > 40 ? gold[..40] + "..." : gold)}', not the gold ending's index 0 to 3 (the second line of task {t}).");
            }

            tasks.Add(new Task(t, lines[6 * t], index, lines.GetRange((6 * t) + 2, 4)));
        }

        return tasks;
    }

    /// <summary>The tasks llama.cpp scores with <c>--hellaswag-tasks</c> <paramref name="count"/> (null or at least the file's: all), in its order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1.</exception>
    public static IReadOnlyList<Task> Select(IReadOnlyList<Task> tasks, int? count)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (count is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "at least 1 task.");
        }

        var left = tasks.ToList();
        var generator = new Mt19937(1);
        var selected = new List<Task>();
        for (int i = 0; i < Math.Min(count ?? int.MaxValue, tasks.Count); i++)
        {
            int at = (int)StdDistributions.UniformIndex(generator, (ulong)left.Count);
            selected.Add(left[at]);
            left.RemoveAt(at);
        }

        return selected;
    }

    /// <summary>
    /// The tasks' endings as loglikelihood requests, four a task in order (<see cref="TokenizedText.Continuations"/>):
    /// each the tokens of context + " " + ending, the four's common prefix as its context.
    /// </summary>
    /// <exception cref="InvalidFileException">A task whose four sequences share no token (llama.cpp scores the first ending token from the last shared one) or one that is all shared, naming it.</exception>
    public static TokenizedText Encode(TextTokenizer tokenizer, IReadOnlyList<Task> tasks, string name)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(tasks);
        var ids = new List<int>();
        var starts = new List<long>();
        var continuations = new List<int>();
        foreach (var task in tasks)
        {
            int[][] sequences = [.. task.Endings.Select(e => tokenizer.Encode(task.Context + " " + e, name).Ids)];
            int common = 0;
            while (sequences.All(s => common < s.Length && s[common] == sequences[0][common]))
            {
                common++;
            }

            if (common == 0 || sequences.Any(s => s.Length == common))
            {
                throw new InvalidFileException(name, $"task {task.Index}: its four sequences {(common == 0 ? "share no first token (no BOS and endings that differ from the start)" : "are one the prefix of another")}, which llama.cpp cannot score.");
            }

            foreach (var sequence in sequences)
            {
                starts.Add(ids.Count);
                ids.AddRange(sequence);
                continuations.Add(sequence.Length - common);
            }
        }

        return new TokenizedText([.. ids], null, name, tokenizer.Name) { DocumentStarts = [.. starts], Continuations = [.. continuations] };
    }

    /// <summary>A task's four endings' mean log-probabilities, its prediction, and whether that is its gold.</summary>
    public sealed record Scored(Task Task, IReadOnlyList<double> Means, int Prediction)
    {
        /// <summary>Whether the prediction is the gold ending.</summary>
        public bool Right => Prediction == Task.Gold;
    }

    /// <summary>Each task's endings scored from their requests' scores (four a task, in the order <see cref="Encode"/> made them).</summary>
    public static IReadOnlyList<Scored> Score(IReadOnlyList<Task> tasks, IReadOnlyList<RequestScore> scores)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != 4 * tasks.Count)
        {
            throw new ArgumentException($"{scores.Count} scores for {tasks.Count} tasks of 4 endings.", nameof(scores));
        }

        return [.. tasks.Select((task, t) =>
        {
            double[] means = [.. Enumerable.Range(0, 4).Select(e => scores[(4 * t) + e].LogLikelihood / scores[(4 * t) + e].ContinuationTokens)];
            int prediction = 0;
            for (int e = 1; e < 4; e++)
            {
                prediction = means[e] > means[prediction] ? e : prediction;
            }

            return new Scored(task, means, prediction);
        })];
    }

    /// <summary>The Wilson score 95% interval of <paramref name="right"/> of <paramref name="count"/>, as llama.cpp computes it (z = 1.95996398454).</summary>
    public static (double Low, double High) Wilson(int right, int count)
    {
        const double za = 1.95996398454;
        double freq = (double)right / count, z = za * za / count;
        double confidence = z * Math.Sqrt(count * ((4.0 * freq * (1 - freq)) + z)) / (za + za);
        return ((freq + (z * 0.5) - confidence) / (1.0 + z), (freq + (z * 0.5) + confidence) / (1.0 + z));
    }
}
