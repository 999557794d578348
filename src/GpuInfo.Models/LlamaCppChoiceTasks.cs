using System.Buffers.Binary;
using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// llama.cpp's multiple-choice scores of any model, as <c>llama-perplexity</c> computes them (tools/perplexity/
/// perplexity.cpp): <c>--hellaswag</c> (<c>hellaswag_score</c>, a text file of 6 lines a task) and
/// <c>--multiple-choice</c> (<c>multiple_choice_score</c>, the binary files of ARC, MMLU, TruthfulQA and HellaSwag
/// llama.cpp's users get from ikawrakow/validation-datasets-for-llama.cpp): the same tasks, tokens and scoring.
/// </summary>
/// <remarks>
/// <para>Each answer is scored as the text question + " " + answer tokenized with the tokens the tokenizer adds (a
/// BOS), from the first token where the task's sequences differ (their common prefix, shared) to their end: the mean
/// log-probability of those tokens. The prediction is the answer of the largest mean (the first of equals), right
/// where it is a correct answer.</para>
/// <para>With fewer tasks asked for than the file holds, llama.cpp draws them with <c>std::mt19937(1)</c>
/// (<see cref="Select"/>): HellaSwag always draws (in any order all give the same score), through libstdc++'s
/// <c>uniform_int_distribution</c> here, as a Linux build does; multiple choice (and Winogrande, <see cref="LlamaCppWinogrande"/>) only then.</para>
/// </remarks>
public static class LlamaCppChoiceTasks
{
    /// <summary>The HellaSwag tasks llama-perplexity scores unless told otherwise (its <c>hellaswag_tasks</c> default): 400 drawn.</summary>
    public const int HellaSwagDefaultTasks = 400;

    /// <summary>A task: its place in the file (from 0), its question (HellaSwag's context), its answers and which are correct.</summary>
    public sealed record Task(int Index, string Question, IReadOnlyList<string> Answers, IReadOnlyList<bool> Correct);

    /// <summary>The file formats and their ways of drawing tasks.</summary>
    public enum Format
    {
        /// <summary><c>--hellaswag</c>: a context, the gold ending's index and four endings, a line each.</summary>
        HellaSwag,

        /// <summary><c>--multiple-choice</c>: llama.cpp's binary task file.</summary>
        MultipleChoice,
    }

    /// <summary>A HellaSwag file's tasks, in order.</summary>
    /// <exception cref="InvalidFileException">Lines not a multiple of 6 (none at all included), or a gold line that is not 0 to 3, naming the line.</exception>
    public static IReadOnlyList<Task> ReadHellaSwag(string path, string text)
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

            tasks.Add(new Task(t, lines[6 * t], lines.GetRange((6 * t) + 2, 4), [.. Enumerable.Range(0, 4).Select(e => e == index)]));
        }

        return tasks;
    }

    /// <summary>
    /// A multiple-choice file's tasks, in order: a uint32 count, each task's uint32 byte offset, then the tasks, each a
    /// question and two answer sets (mc1: answers with one correct, scored; mc2: several, read past), a string being a
    /// uint32 length and its UTF-8 bytes, an answer set a uint32 count (at most 100), its answers and an int32 label
    /// each (1 for correct), all little-endian.
    /// </summary>
    /// <exception cref="InvalidFileException">A file cut short, offsets outside it, more than 100 answers, an empty question or answer, or no correct answer, naming the task.</exception>
    public static IReadOnlyList<Task> ReadMultipleChoice(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(bytes);
        int at = 0;
        uint UInt(string what)
        {
            if (at + 4 > bytes.Length)
            {
                throw new InvalidFileException(path, $"ends at byte {bytes.Length} inside {what}: cut short, or not llama.cpp's multiple-choice file.");
            }

            at += 4;
            return BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at - 4));
        }

        uint count = UInt("the task count");
        if (count == 0 || (ulong)count * 4 > (ulong)(bytes.Length - 4))
        {
            throw new InvalidFileException(path, count == 0 ? "holds no tasks." : $"says it holds {count} tasks, more than its {bytes.Length} bytes can: not llama.cpp's multiple-choice file.");
        }

        var offsets = new uint[count];
        for (int i = 0; i < count; i++)
        {
            offsets[i] = UInt("the task offsets");
        }

        var tasks = new List<Task>((int)count);
        for (int t = 0; t < count; t++)
        {
            string what = $"task {t}";
            if (offsets[t] >= bytes.Length)
            {
                throw new InvalidFileException(path, $"{what}: its offset {offsets[t]} is past the file's end ({bytes.Length} bytes).");
            }

            at = (int)offsets[t];
            string Text()
            {
                uint length = UInt($"{what}'s text length");
                if (length > bytes.Length - at)
                {
                    throw new InvalidFileException(path, $"{what}: a text of {length} bytes runs past the file's end.");
                }

                try
                {
                    string text = new UTF8Encoding(false, true).GetString(bytes, at, (int)length);
                    at += (int)length;
                    return text;
                }
                catch (DecoderFallbackException)
                {
                    throw new InvalidFileException(path, $"{what}: a text that is not UTF-8.");
                }
            }

            (List<string> Answers, List<int> Labels) Answers()
            {
                uint n = UInt($"{what}'s answer count");
                if (n > 100)
                {
                    throw new InvalidFileException(path, $"{what}: {n} answers, more than llama.cpp reads (100).");
                }

                var answers = Enumerable.Range(0, (int)n).Select(_ => Text()).ToList();
                return (answers, [.. Enumerable.Range(0, (int)n).Select(_ => (int)UInt($"{what}'s labels"))]);
            }

            string question = Text();
            var (answers, labels) = Answers();
            Answers(); // mc2, which llama.cpp reads and does not score
            if (question.Length == 0 || answers.Count == 0 || answers.Any(a => a.Length == 0) || !labels.Contains(1))
            {
                throw new InvalidFileException(path, $"{what}: {(question.Length == 0 ? "an empty question" : answers.Count == 0 ? "no answers" : !labels.Contains(1) ? "no correct answer (label 1)" : "an empty answer")}, which llama.cpp refuses.");
            }

            tasks.Add(new Task(t, question, answers, [.. labels.Select(l => l == 1)]));
        }

        return tasks;
    }

    /// <summary>The tasks llama.cpp scores when asked for <paramref name="count"/> (null: all), in its order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1.</exception>
    public static IReadOnlyList<T> Select<T>(IReadOnlyList<T> tasks, int? count, Format format)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (count is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "at least 1 task.");
        }

        var generator = new Mt19937(1);
        var left = tasks.ToList();
        var selected = new List<T>();
        if (format == Format.HellaSwag)
        {
            for (int i = 0; i < Math.Min(count ?? int.MaxValue, tasks.Count); i++)
            {
                int at = (int)StdDistributions.UniformIndex(generator, (ulong)left.Count);
                selected.Add(left[at]);
                left.RemoveAt(at);
            }

            return selected;
        }

        if (count is null || count >= tasks.Count)
        {
            return tasks;
        }

        // (int)(scale * rng() * left), in float as llama.cpp computes it: the output rounded to float first.
        float scale = 1f / (1f + uint.MaxValue);
        for (int i = 0; i < count; i++)
        {
            int at = Math.Min((int)(scale * generator.NextUInt32() * left.Count), left.Count - 1);
            selected.Add(left[at]);
            left[at] = left[^1];
            left.RemoveAt(left.Count - 1);
        }

        return selected;
    }

    /// <summary>
    /// The tasks' answers as loglikelihood requests, in order (<see cref="TokenizedText.Continuations"/>): each the tokens
    /// of question + " " + answer, the task's sequences' common prefix as its context.
    /// </summary>
    /// <exception cref="InvalidFileException">A task whose sequences share no token (llama.cpp scores the first answer token from the last shared one) or one that is all shared, naming it.</exception>
    public static TokenizedText Encode(TextTokenizer tokenizer, IReadOnlyList<Task> tasks, string name)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(tasks);
        var ids = new List<int>();
        var starts = new List<long>();
        var continuations = new List<int>();
        foreach (var task in tasks)
        {
            int[][] sequences = [.. task.Answers.Select(a => tokenizer.Encode(task.Question + " " + a, name).Ids)];
            int common = 0;
            while (sequences.All(s => common < s.Length && s[common] == sequences[0][common]))
            {
                common++;
            }

            if (common == 0 || sequences.Any(s => s.Length == common))
            {
                throw new InvalidFileException(name, $"task {task.Index}: its sequences {(common == 0 ? "share no first token (no BOS and answers that differ from the start)" : "hold one that is the prefix of another")}, which llama.cpp cannot score.");
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

    /// <summary>A task's answers' mean log-probabilities, its prediction, and whether that is a correct answer.</summary>
    public sealed record Scored(Task Task, IReadOnlyList<double> Means, int Prediction)
    {
        /// <summary>Whether the prediction is a correct answer.</summary>
        public bool Right => Task.Correct[Prediction];
    }

    /// <summary>Each task's answers scored from their requests' scores (in the order <see cref="Encode"/> made them).</summary>
    public static IReadOnlyList<Scored> Score(IReadOnlyList<Task> tasks, IReadOnlyList<RequestScore> scores)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != tasks.Sum(t => t.Answers.Count))
        {
            throw new ArgumentException($"{scores.Count} scores for {tasks.Sum(t => t.Answers.Count)} answers.", nameof(scores));
        }

        var scored = new List<Scored>(tasks.Count);
        int first = 0;
        foreach (var task in tasks)
        {
            double[] means = [.. Enumerable.Range(first, task.Answers.Count).Select(r => scores[r].LogLikelihood / scores[r].ContinuationTokens)];
            int prediction = 0;
            for (int a = 1; a < means.Length; a++)
            {
                prediction = means[a] > means[prediction] ? a : prediction;
            }

            scored.Add(new Scored(task, means, prediction));
            first += task.Answers.Count;
        }

        return scored;
    }

    /// <summary>The Wilson score 95% interval of <paramref name="right"/> of <paramref name="count"/>, as llama.cpp's HellaSwag computes it (z = 1.95996398454).</summary>
    public static (double Low, double High) Wilson(int right, int count)
    {
        const double za = 1.95996398454;
        double freq = (double)right / count, z = za * za / count;
        double confidence = z * Math.Sqrt(count * ((4.0 * freq * (1 - freq)) + z)) / (za + za);
        return ((freq + (z * 0.5) - confidence) / (1.0 + z), (freq + (z * 0.5) + confidence) / (1.0 + z));
    }
}
