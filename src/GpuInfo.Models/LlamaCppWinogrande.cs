using System.Globalization;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// llama.cpp's Winogrande score of any model, as <c>llama-perplexity --winogrande</c> computes it (tools/perplexity/
/// perplexity.cpp, <c>winogrande_score</c>): its CSV file (index, sentence with a <c>_</c>, choice 1, choice 2, answer 1
/// or 2), its tokens, its choice of the tokens scored and its task draws.
/// </summary>
/// <remarks>
/// <para>Each choice's sentence is the text before the blank + the choice + the text after it, tokenized with the tokens
/// the tokenizer adds (a BOS). Where both sentences run on for more than 3 tokens past their common prefix, the score
/// leaves the choice out: the mean log-probability of the tokens after (text before the blank + choice) tokenized;
/// otherwise of the tokens from the common prefix on. The last token (the full stop) is left out where more than one
/// is scored. The prediction is choice 1 where its mean is larger, else choice 2.</para>
/// <para>llama.cpp scores the second sentence's first token of the second kind from the first sentence's last position
/// (its "FIXME: this uses the wrong first logits when not skipping the choice word"): done here as it does, so the
/// figures are its figures; <see cref="Plan.Misread"/> counts those tokens.</para>
/// </remarks>
public static class LlamaCppWinogrande
{
    private const int MinTrailingTokens = 3;

    /// <summary>A task: its place among the file's tasks (from 0), its line (from 1), the sentence around the blank, the two choices and the right one (1 or 2).</summary>
    public sealed record Task(int Index, int Line, string Before, string After, string Choice1, string Choice2, int Answer);

    /// <summary>A file's tasks and, where llama.cpp leaves its last line unread, that line's number.</summary>
    public sealed record TaskFile(IReadOnlyList<Task> Tasks, int? UnreadLastLine);

    /// <summary>
    /// A file's tasks as llama.cpp reads them: its <c>-f</c> drops one final line break, and its line loop stops at a
    /// line without one, so the file's last line is not read unless a blank line follows it (returned in
    /// <see cref="TaskFile.UnreadLastLine"/> where it holds more than white space). A sentence in double quotes has them taken off (commas
    /// in it kept); a first line whose answer is not a number is a header.
    /// </summary>
    /// <exception cref="InvalidFileException">A line without four commas, without a <c>_</c> in its sentence, or whose answer is not 1 or 2 (llama.cpp logs and skips it), or no tasks, naming the line.</exception>
    public static TaskFile Read(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        if (text.EndsWith('\n'))
        {
            text = text[..^1];
        }

        string[] lines = text.Split('\n');
        int? unread = string.IsNullOrWhiteSpace(lines[^1]) ? null : lines.Length;
        var tasks = new List<Task>();
        for (int l = 0; l < lines.Length - 1; l++)
        {
            string line = lines[l];
            var commas = new List<int>(4);
            bool quoted = false;
            for (int i = 0; i < line.Length && commas.Count < 4; i++)
            {
                if (line[i] == '"')
                {
                    quoted = !quoted;
                }
                else if (line[i] == ',' && !quoted)
                {
                    commas.Add(i);
                }
            }

            string where = $"{path}:{l + 1}";
            if (commas.Count < 4)
            {
                throw new InvalidFileException(where, $"has {commas.Count} commas outside quotes, not the 4 of llama.cpp's Winogrande line (index,sentence,choice 1,choice 2,answer).");
            }

            string answerText = line[(commas[3] + 1)..];
            if (!TryLeadingInteger(answerText, out int answer))
            {
                if (l == 0)
                {
                    continue; // a header
                }

                throw new InvalidFileException(where, $"has the answer '{Shorten(answerText)}', not 1 or 2.");
            }

            if (answer is not (1 or 2))
            {
                throw new InvalidFileException(where, $"has the answer {answer}, not 1 or 2.");
            }

            // As llama.cpp cuts it: a sentence that opens with a quote loses its first and last characters.
            string sentence = line[commas[0] + 1] == '"' ? line.Substring(commas[0] + 2, Math.Max(0, commas[1] - commas[0] - 3)) : line[(commas[0] + 1)..commas[1]];
            int blank = sentence.IndexOf('_', StringComparison.Ordinal);
            if (blank < 0)
            {
                throw new InvalidFileException(where, $"has no _ in its sentence '{Shorten(sentence)}'.");
            }

            tasks.Add(new Task(tasks.Count, l + 1, sentence[..blank], sentence[(blank + 1)..], line[(commas[1] + 1)..commas[2]], line[(commas[2] + 1)..commas[3]], answer));
        }

        if (tasks.Count == 0)
        {
            throw new InvalidFileException(path, unread is null ? "holds no tasks." : "holds no tasks llama.cpp reads (its one line has no line break after it, so llama.cpp reads none).");
        }

        return new TaskFile(tasks, unread);
    }

    /// <summary>The tasks llama.cpp scores when asked for <paramref name="count"/> (null: all): with fewer than the file's, N drawn as <c>--multiple-choice-tasks</c> draws them.</summary>
    public static IReadOnlyList<Task> Select(IReadOnlyList<Task> tasks, int? count) => LlamaCppChoiceTasks.Select(tasks, count, LlamaCppChoiceTasks.Format.MultipleChoice);

    /// <summary>
    /// How a task's two scores are formed from the requests <see cref="Encode"/> made: each choice's request indices,
    /// the tokens its mean is over, whether the choice is left out of the score, and how many of its tokens llama.cpp
    /// scores from another position's logits.
    /// </summary>
    public sealed record Plan(Task Task, IReadOnlyList<int>[] Requests, int[] Tokens, bool ChoiceSkipped, int Misread);

    /// <summary>
    /// The tasks as loglikelihood requests (<see cref="TokenizedText.Continuations"/>) and the plan of each: the tokens
    /// llama.cpp scores, each from the logits it reads, as runs of one sequence's own next tokens (a request each) and
    /// single tokens it reads from another position (a request of that position's prefix and the token).
    /// </summary>
    /// <exception cref="InvalidFileException">A task whose sentences share no first token, one that is a prefix of the other, or whose scored tokens llama.cpp would read from another task's logits or that scores no token, naming its line.</exception>
    public static (TokenizedText Text, IReadOnlyList<Plan> Plans) Encode(TextTokenizer tokenizer, IReadOnlyList<Task> tasks, string name)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(tasks);
        var ids = new List<int>();
        var starts = new List<long>();
        var continuations = new List<int>();
        var plans = new List<Plan>(tasks.Count);
        foreach (var task in tasks)
        {
            string where = $"{name}:{task.Line}";
            string[] choices = [task.Choice1, task.Choice2];
            int[][] sequences = [.. choices.Select(c => tokenizer.Encode(task.Before + c + task.After, name).Ids)];
            int[] bases = [.. choices.Select(c => tokenizer.Encode(task.Before + c, name).Ids.Length)];
            int common = 0;
            while (common < sequences[0].Length && common < sequences[1].Length && sequences[0][common] == sequences[1][common])
            {
                common++;
            }

            if (common == 0 || common == sequences[0].Length || common == sequences[1].Length)
            {
                throw new InvalidFileException(where, $"task {task.Index}: its sentences {(common == 0 ? "share no first token (no BOS and choices that differ from the start)" : "are one the prefix of the other")}, which llama.cpp cannot score.");
            }

            bool skipped = sequences[0].Length - common > MinTrailingTokens && sequences[1].Length - common > MinTrailingTokens;
            var requests = new IReadOnlyList<int>[2];
            int[] counted = new int[2];
            int misread = 0;
            for (int s = 0; s < 2; s++)
            {
                int from = skipped ? bases[s] : common;
                int last = sequences[s].Length - from > 1 ? 1 : 0;
                int count = sequences[s].Length - from - last;
                // llama.cpp's logits of the task: [common - 1], sequence 0's positions from common, then sequence 1's.
                long first = s == 0 ? from - common : (long)sequences[0].Length - common + from - common;
                if (count <= 0 || first < 0 || first + count - 1 > (long)sequences[0].Length + sequences[1].Length - (2 * common))
                {
                    throw new InvalidFileException(where, $"task {task.Index}: choice {s + 1} {(count <= 0 ? "leaves no token to score" : "would be scored from another task's logits")} as llama.cpp picks its tokens (the sentence tokenizes otherwise than its text before the blank and the choice), which it cannot score.");
                }

                var indices = new List<int>();
                int runStart = -1, runEnd = -1;
                void Flush()
                {
                    if (runStart >= 0)
                    {
                        Add(sequences[s][..(runEnd + 2)], runEnd - runStart + 1, indices);
                        runStart = -1;
                    }
                }

                for (int k = 0; k < count; k++)
                {
                    long at = first + k;
                    int target = sequences[s][from + k];
                    // The sequence and position whose logits llama.cpp reads for this token.
                    var (source, position) = at == 0 ? (s, common - 1) : at <= sequences[0].Length - common ? (0, (int)(common - 1 + at)) : (1, (int)(at - (sequences[0].Length - common) + common - 1));
                    if (source == s && position == from + k - 1)
                    {
                        if (runStart >= 0 && position != runEnd + 1)
                        {
                            Flush();
                        }

                        runStart = runStart < 0 ? position : runStart;
                        runEnd = position;
                        continue;
                    }

                    Flush();
                    misread++;
                    Add([.. sequences[source][..(position + 1)], target], 1, indices);
                }

                Flush();
                requests[s] = indices;
                counted[s] = count;
            }

            plans.Add(new Plan(task, requests, counted, skipped, misread));
        }

        return (new TokenizedText([.. ids], null, name, tokenizer.Name) { DocumentStarts = [.. starts], Continuations = [.. continuations] }, plans);

        void Add(int[] tokens, int scored, List<int> indices)
        {
            indices.Add(starts.Count);
            starts.Add(ids.Count);
            ids.AddRange(tokens);
            continuations.Add(scored);
        }
    }

    /// <summary>A task's two mean log-probabilities, its prediction (1 or 2) and whether it is the answer.</summary>
    public sealed record Scored(Plan Plan, double Mean1, double Mean2)
    {
        /// <summary>Choice 1 where its mean is larger, else choice 2 (llama.cpp's <c>score_1st &gt; score_2nd ? 1 : 2</c>).</summary>
        public int Prediction => Mean1 > Mean2 ? 1 : 2;

        /// <summary>Whether the prediction is the answer.</summary>
        public bool Right => Prediction == Plan.Task.Answer;
    }

    /// <summary>Each task scored from its requests' scores (in the order <see cref="Encode"/> made them).</summary>
    public static IReadOnlyList<Scored> Score(IReadOnlyList<Plan> plans, IReadOnlyList<RequestScore> scores)
    {
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(scores);
        int requests = plans.Sum(p => p.Requests[0].Count + p.Requests[1].Count);
        if (scores.Count != requests)
        {
            throw new ArgumentException($"{scores.Count} scores for {requests} requests.", nameof(scores));
        }

        double Mean(Plan plan, int s) => plan.Requests[s].Sum(r => scores[r].LogLikelihood) / plan.Tokens[s];
        return [.. plans.Select(p => new Scored(p, Mean(p, 0), Mean(p, 1)))];
    }

    private static bool TryLeadingInteger(string text, out int value)
    {
        // std::istringstream >> int: white space skipped, a sign and digits, the rest ignored.
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        int start = i;
        if (i < text.Length && text[i] is '+' or '-')
        {
            i++;
        }

        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        return int.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
