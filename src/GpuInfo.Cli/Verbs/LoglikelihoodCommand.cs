using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo loglikelihood</c>: lm-evaluation-harness's <c>loglikelihood</c> requests (a context and a
/// continuation) scored by an ONNX causal LM, as its Hugging Face model scores them: each request's
/// log-likelihood and whether the model's greedy choice is the continuation at each of its tokens. By default
/// each document is a LAMBADA passage (the <c>lambada_openai</c> and <c>lambada_standard</c> tasks: its last word
/// after the rest; <c>acc</c> and <c>perplexity</c>); with <c>--continuation-field</c>, any request; with
/// <c>--choices-field</c>, a <c>multiple_choice</c> task's document (<c>acc</c> and <c>acc_norm</c>).
/// </summary>
internal static partial class LoglikelihoodCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var model = new Option<string>("--model") { Description = "A causal LM in ONNX (as perplexity --model).", Required = true };
        var text = FileListOption.Create("--text", $"The documents: each a LAMBADA passage (its last word scored after the rest), or with --continuation-field or --choices-field a request's context. {ModelDocuments.FilesHelp}", join: false);
        var samples = FileListOption.Create("--samples", "Instead of --text: lm-evaluation-harness's per-sample log of a loglikelihood or multiple_choice task (lm_eval --log_samples: samples_TASK_DATE.jsonl), its requests scored as the harness rendered them, beside the harness's own scores of them.", join: false);
        var field = new Option<string>("--text-field") { Description = "The field of a .jsonl line, or column of a .parquet file, holding each passage (or, with --continuation-field or --choices-field, each context).", DefaultValueFactory = _ => "text" };
        var continuationField = new Option<string?>("--continuation-field") { Description = "The field (or column) holding each request's continuation, scored after its --text-field context, instead of splitting a passage at its last space; with --choices-field, the continuation each choice (then a context, as a multiple_input task's: Winogrande's) is scored with." };
        var choicesField = new Option<string?>("--choices-field") { Description = "The field of each .jsonl line holding a multiple_choice document's choices (a JSON array of strings), each scored after its --text-field context and --target-delimiter: acc and acc_norm, as lm-evaluation-harness's multiple_choice tasks." };
        var goldField = new Option<string>("--gold-field") { Description = "With --choices-field: the field holding the right choice, its index from 0 or its text.", DefaultValueFactory = _ => "gold" };
        var labelsField = new Option<string?>("--labels-field") { Description = $"With --choices-field or --samples of a multiple_choice task: where each line holds labels of the document's true choices (a JSON array of 0 and 1, one per choice; a dotted path, {HarnessSamples.Mc2Labels} in truthfulqa_mc2's samples), scored as truthfulqa_mc2 scores them: acc is the probability mass on the true choices, the choices' likelihoods renormalised over them." };
        var delimiter = new Option<string>("--target-delimiter") { Description = "With --choices-field, or --samples of a multiple_choice task: put between the context and each choice (a task's target_delimiter).", DefaultValueFactory = _ => " " };
        var baseModel = new Option<string?>("--base") { Description = "A second causal LM in ONNX (the base of a quantized or exported --model) that scores the same requests: its figures and how far the two agree, as with --samples." };
        var prefix = new Option<string?>("--prefix-token") { Description = "The token an empty context stands as: an id, a token's text, auto (lm-evaluation-harness's prefix_token_id: the tokenizer's BOS, else its EOS; the default) or none." };
        var perDocument = new Option<string?>("--per-document") { Description = "Write one JSON line per document (.jsonl): its index, name, loglikelihood and is_greedy (per choice, with the prediction and gold, for --choices-field), and its tokens." };
        var bootstrap = new Option<int>("--bootstrap-iters") { Description = "Resamples of lm-evaluation-harness's bootstrap perplexity_stderr (its --bootstrap_iters), drawn as it draws them, so the figure is its figure; 0 for none.", DefaultValueFactory = _ => HarnessBootstrap.DefaultIterations };
        var hellaswag = new Option<string?>("--hellaswag") { Description = "Instead of --text: llama.cpp's HellaSwag file (hellaswag_val_full.txt: a context, the gold ending's index and four endings a task), scored as llama-perplexity --hellaswag scores it: acc_norm, each ending's mean token log-probability from where the four differ." };
        var hellaswagTasks = new Option<int?>("--hellaswag-tasks") { Description = "With --hellaswag: score the tasks llama-perplexity --hellaswag-tasks N scores (the first N it draws, with std::mt19937(1) as libstdc++ draws); default 400, as llama-perplexity's (all where the file holds fewer)." };
        var multipleChoice = new Option<string?>("--multiple-choice") { Description = "Instead of --text: llama.cpp's binary multiple-choice file (ARC, MMLU, TruthfulQA, HellaSwag as ikawrakow/validation-datasets-for-llama.cpp ships them), scored as llama-perplexity --multiple-choice scores it: acc, each answer's mean token log-probability from where the answers differ." };
        var multipleChoiceTasks = new Option<int?>("--multiple-choice-tasks") { Description = "With --multiple-choice: score the tasks llama-perplexity --multiple-choice-tasks N scores (N drawn with std::mt19937(1)); default all, in order." };
        var winogrande = new Option<string?>("--winogrande") { Description = "Instead of --text: llama.cpp's Winogrande CSV (index, sentence with a _, choice 1, choice 2, answer 1 or 2; winogrande-debiased-eval.csv), scored as llama-perplexity --winogrande scores it: acc, each choice's mean token log-probability over the tokens it picks." };
        var winograndeTasks = new Option<int?>("--winogrande-tasks") { Description = "With --winogrande: score the tasks llama-perplexity --winogrande-tasks N scores (N drawn with std::mt19937(1)); default all, in order." };
        var models = new ModelOptions();
        var sharding = new ShardOptions();
        var command = new Command("loglikelihood", "lm-evaluation-harness's loglikelihood requests under an ONNX language model: LAMBADA's acc and perplexity, multiple-choice acc and acc_norm, or any (context, continuation) requests; or llama.cpp's HellaSwag, Winogrande and multiple-choice scores.")
            { model, baseModel, text, samples, field, continuationField, choicesField, goldField, labelsField, delimiter, prefix, perDocument, bootstrap, hellaswag, hellaswagTasks, multipleChoice, multipleChoiceTasks, winogrande, winograndeTasks };
        models.AddRequestOptionsTo(command);
        sharding.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var windows = models.RequestWindows(parse, parse.GetValue(model)!, out string contextSource);
            models.CheckProvider(parse);
            string? perDocumentPath = parse.GetValue(perDocument);
            OutputFile.Check(perDocumentPath);
            int iterations = parse.GetValue(bootstrap);
            if (iterations is < 0 or 1)
            {
                throw CliException.Usage($"--bootstrap-iters {iterations}: give 0 (no perplexity_stderr) or at least 2 resamples.");
            }

            foreach (var (file, tasks, format) in new[] { (hellaswag, hellaswagTasks, LlamaCppChoiceTasks.Format.HellaSwag), (multipleChoice, multipleChoiceTasks, LlamaCppChoiceTasks.Format.MultipleChoice), (winogrande, winograndeTasks, (LlamaCppChoiceTasks.Format?)null) })
            {
                if (parse.GetValue(file) is { } llamaPath)
                {
                    Option[] others = [text, samples, field, continuationField, choicesField, labelsField, prefix, sharding.Shard, sharding.Shards, sharding.Partial, sharding.PartialDir, hellaswag, multipleChoice, winogrande];
                    if (others.FirstOrDefault(o => o != file && parse.GetResult(o) is { Implicit: false }) is { } notHere)
                    {
                        throw CliException.Usage($"{file.Name} is llama.cpp's task file alone: {notHere.Name} does not apply to it.");
                    }

                    return format is { } choices
                        ? LlamaCppTasks(stdout, parse, llamaPath, parse.GetValue(tasks), choices, parse.GetValue(model)!, parse.GetValue(baseModel), models, common, windows, contextSource, perDocumentPath, clock)
                        : WinograndeTasks(stdout, stderr, parse, llamaPath, parse.GetValue(tasks), parse.GetValue(model)!, parse.GetValue(baseModel), models, common, windows, contextSource, perDocumentPath, clock);
                }

                if (parse.GetResult(tasks) is { Implicit: false })
                {
                    throw CliException.Usage($"{tasks.Name}: give {file.Name}, the file its tasks are drawn from.");
                }
            }

            var (shard, shardFrom) = sharding.Parse(parse);
            string? partialPath = sharding.PartialPath(parse, shard);
            var input = Input.Parse(parse, text, samples, field, continuationField, choicesField, goldField, labelsField, delimiter);
            string[] files = input.Files;
            string? basePath = parse.GetValue(baseModel);
            if (basePath is not null && input.Samples)
            {
                throw CliException.Usage("--base: --samples already holds the scores to compare against (the harness's run).");
            }

            var tokenizer = models.LoadTokenizer(parse, parse.GetValue(model));
            string? given = parse.GetValue(prefix);
            int? prefixToken = given is null ? tokenizer.DocumentPrefix : ModelOptions.PrefixToken(given, $"--prefix-token {given}", tokenizer);
            string name = ModelDocuments.NameOf(files);
            var run = Slice(input, shard, shardFrom);
            var names = new List<string>();
            // A shard that begins inside a section runs the section's first request too (its score left out), as the whole run does.
            var warmup = run.SectionFirst;
            IReadOnlyList<LoglikelihoodRequest> scoring = warmup is { } first ? [first, .. run.Requests] : run.Requests;
            var encoded = LoglikelihoodRequests.Encode(tokenizer, scoring.Select(r =>
            {
                names.Add(r.Name);
                return r;
            }), prefixToken, name, () => models.LoadTokenizer(parse, parse.GetValue(model)));
            CheckLengths(encoded, names, windows.Context);
            double tokenizeSeconds = clock.Elapsed.TotalSeconds;
            var modelText = new ModelText(encoded, tokenizer, null, tokenizeSeconds) { DocumentNames = [.. names] };
            if (warmup is not null)
            {
                names.RemoveAt(0); // the scores' names: the shard's requests
            }

            var load = Stopwatch.StartNew();
            using var engines = common.CreateEngines(parse);
            using var lm = Open(models, parse, parse.GetValue(model)!, modelText, prefixToken);
            using var reference = basePath is null ? null : Open(models, parse, basePath, modelText, prefixToken);
            double loadSeconds = load.Elapsed.TotalSeconds;
            bool quiet = parse.GetValue(common.Json);
            // Batches of like lengths, as the harness batches them; each score put back in its request's place.
            int[]? order = null;
            // A document's requests (and a file's documents) share their first tokens where the models reuse their past; else
            // batches run longest first.
            var scoredText = windows.Batch > 1 && !PastSharing.Applies(lm, reference, run.Documents.Count > 0) ? LoglikelihoodRequests.LongestFirst(encoded, windows.Context, out order)
                : run.Documents.Count > 0 ? LoglikelihoodRequests.Grouped(encoded, [.. warmup is null ? Array.Empty<int>() : [1], .. run.Documents.Select(d => d.Choices.Count)], run.Sections(warmup is not null))
                : encoded;
            var sharing = new PastSharing();
            var scores = Score(lm, scoredText, order, windows, engines, quiet, reference is null ? "scoring" : "scoring --model", sharing)[(warmup is null ? 0 : 1)..];
            IReadOnlyList<(double, bool)>? other = input.Samples ? run.Harness : null;
            if (reference is not null)
            {
                other = [.. Score(reference, scoredText, order, windows, engines, quiet, "scoring --base", sharing).Skip(warmup is null ? 0 : 1).Select(r => (r.LogLikelihood, r.IsGreedy))];
            }

            var scored = ScoredDocument.Group(scores, names, run.Documents, other, run.Files.Count > 0 ? run.Files : null);
            long tokens = scores.Sum(r => r.ContinuationTokens);
            string compared = reference is null ? "harness" : "base";
            var partial = new LoglikelihoodPartial(shard, run.Total, run.FirstDocument, scored,
                Identity(input, run.Documents.Count > 0, lm, reference, tokenizer, windows.Context, prefixToken, other is null ? "none" : compared, iterations, run.Metrics),
                new Dictionary<string, string>(input.Samples && files.Length > 1 ? files.Select((f, i) => KeyValuePair.Create($"file {i}", f)) : [])
                {
                    ["model"] = lm.Path, ["base"] = reference?.Path ?? "", ["text"] = name, ["tokenizer"] = tokenizer.Name, ["context_source"] = contextSource,
                });
            var report = Report(partial, iterations);
            if (shard.Count > 1)
            {
                report["shard"] = shard.ToString();
                report["shard_from"] = shardFrom;
                report["first_document"] = run.FirstDocument;
            }

            report["provider"] = lm.Provider;
            report["device"] = engines.Description;
            double seconds = clock.Elapsed.TotalSeconds; // the bootstrap's resamples included
            report["seconds"] = Math.Round(seconds, 3);
            ModelOptions.AddTiming(report, tokens * (reference is null ? 1 : 2), seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds + (reference?.RunSeconds ?? 0));
            sharing.AddTo(report, lm, reference);
            if (perDocumentPath is not null)
            {
                PerDocumentLines.Write(perDocumentPath, LoglikelihoodReport.Lines(scored, run.FirstDocument, compared));
            }

            if (partialPath is not null)
            {
                try
                {
                    partial.Save(partialPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw CliException.Usage($"{partialPath}: cannot write: {e.Message}");
                }
            }

            CompareCommand.Print(stdout, parse.GetValue(common.Json), $"loglikelihood {lm.Path} on {name} ({DeviceNames.Kind(engines.First.Device.Kind)})", report);
            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary><c>gpuinfo merge</c> of loglikelihood partials: the report of the run their shards make up, equal to one run's.</summary>
    public static int Merge(TextWriter stdout, IReadOnlyList<string> paths, bool json)
    {
        var merged = LoglikelihoodPartial.Merge(paths.Select(LoglikelihoodPartial.Load));
        if (Unreadable(merged) is { } key)
        {
            throw new InvalidFileException(paths[0], $"its identity has no valid \"{key}\": not a partial 'gpuinfo loglikelihood --partial' writes.");
        }

        int iterations = int.Parse(merged.Identity["bootstrap_iters"], System.Globalization.CultureInfo.InvariantCulture);
        var report = Report(merged, iterations);
        report["partials"] = paths.Count;
        CompareCommand.Print(stdout, json, $"merged loglikelihood of {paths.Count} partials", report);
        return ExitCode.Ok;
    }

    /// <summary>The first key of what a merged report needs from the partials that is missing or not what this verb writes; null where all are.</summary>
    private static string? Unreadable(LoglikelihoodPartial partial)
    {
        static bool Count(string? text, bool noneToo) => (noneToo && text == "none")
            || int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);

        string[] told = ["task", "compared"], paths = ["model", "base", "text", "tokenizer"];
        return told.FirstOrDefault(key => !partial.Identity.ContainsKey(key))
            ?? paths.Select(key => $"paths.{key}").FirstOrDefault(key => !partial.Paths.ContainsKey(key[6..]))
            ?? (!Count(partial.Identity.GetValueOrDefault("context"), false) ? "context"
            : !Count(partial.Identity.GetValueOrDefault("bootstrap_iters"), false) ? "bootstrap_iters"
            : !Count(partial.Identity.GetValueOrDefault("prefix_token"), true) ? "prefix_token" : null);
    }

    /// <summary>The report of a partial's documents (a shard's, or the merged run's), and what they were scored with.</summary>
    private static JsonObject Report(LoglikelihoodPartial partial, int iterations)
    {
        string compared = partial.Identity["compared"];
        string[] metrics = partial.Identity.GetValueOrDefault("metrics", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] tasks = [.. Enumerable.Range(0, partial.Paths.Count).TakeWhile(i => partial.Paths.ContainsKey($"file {i}")).Select(i => HarnessSamples.TaskOf(partial.Paths[$"file {i}"]))];
        // The harness's tasks, for how it aggregates their metrics: samples files name them, other documents do not.
        bool samples = partial.Identity["task"].StartsWith("lm-evaluation-harness samples", StringComparison.Ordinal);
        var report = LoglikelihoodReport.Report(partial.Scored, compared, iterations, metrics, !samples ? null : tasks.Length == 0 ? [HarnessSamples.TaskOf(partial.Paths["text"])] : tasks);
        if (LoglikelihoodReport.Tasks(partial.Scored, tasks, compared, metrics, samples) is { } perTask)
        {
            report["tasks"] = perTask;
            if (samples && HarnessGroups.Rows(perTask, compared) is { } groups)
            {
                report["groups"] = groups;
            }
        }

        report["task"] = partial.Identity["task"];
        LoglikelihoodReport.AddTokens(report, partial.Scored);
        report["model"] = partial.Paths["model"];
        if (partial.Paths["base"] is { Length: > 0 } basePath)
        {
            report["base"] = basePath;
        }

        report["text"] = partial.Paths["text"];
        report["tokenizer"] = partial.Paths["tokenizer"];
        report["context"] = int.Parse(partial.Identity["context"], System.Globalization.CultureInfo.InvariantCulture);
        if (partial.Paths.TryGetValue("context_source", out string? source))
        {
            report["context_source"] = source;
        }

        report["prefix_token"] = partial.Identity["prefix_token"] is "none" ? null : int.Parse(partial.Identity["prefix_token"], System.Globalization.CultureInfo.InvariantCulture);
        return report;
    }

    /// <summary>
    /// What must agree between shards for their partials to merge: the models' and input files' fingerprints (not their
    /// paths), the tokenizer, the window, the prefix token, the task, what is compared and the bootstrap's resamples.
    /// </summary>
    private static Dictionary<string, string> Identity(Input input, bool multipleChoice, OnnxLanguageModel lm, OnnxLanguageModel? reference, TextTokenizer tokenizer, int context, int? prefixToken, string compared, int iterations, IReadOnlyList<string> metrics)
    {
        var identity = new Dictionary<string, string>
        {
            ["task"] = input.Samples ? $"lm-evaluation-harness samples ({(multipleChoice ? "multiple choice" : "loglikelihood")}{(input.LabelsField is { } labels ? $", true choices {labels}" : "")})" : input.Task,
            ["target_delimiter"] = input.Delimiter,
            ["tokenizer"] = tokenizer.Name,
            ["vocabulary"] = tokenizer.VocabularySize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown",
            ["context"] = context.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["prefix_token"] = prefixToken?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none",
            ["compared"] = compared,
            ["bootstrap_iters"] = iterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["metrics"] = string.Join(',', metrics),
        };
        foreach (var (role, model) in new[] { ("model", lm), ("base", reference) })
        {
            foreach (var (file, i) in (model?.Fingerprints ?? []).Select((f, i) => (f, i)))
            {
                identity[$"{role} {file.Role} {i}"] = LoglikelihoodPartial.Describe(file);
            }
        }

        for (int i = 0; i < input.Files.Length; i++)
        {
            identity[$"{(input.Samples ? "samples" : "text")} {i}"] = File.Exists(input.Files[i])
                ? LoglikelihoodPartial.Describe(Corpus.FileFingerprint.Of("text", input.Files[i], 4096)) : input.Files[i];
        }

        return identity;
    }

    /// <summary>A shard's requests: those of documents <see cref="FirstDocument"/> on, of <see cref="Total"/>, with their multiple-choice documents and the harness's scores, if any.</summary>
    /// <param name="Metrics">The metrics the harness's samples name (every document's, not the shard's alone), in order.</param>
    /// <param name="Files">Each request's input file, where the samples come from several (each a task: MMLU's subjects); else empty.</param>
    private sealed record RunSlice(IReadOnlyList<LoglikelihoodRequest> Requests, IReadOnlyList<MultipleChoiceDocument> Documents, IReadOnlyList<(double, bool)> Harness, int FirstDocument, int Total, IReadOnlyList<string> Metrics, IReadOnlyList<int> Files)
    {
        /// <summary>Where the slice's first document is not its section's first (a section: a file's documents), the section's first request; else null.</summary>
        public LoglikelihoodRequest? SectionFirst { get; init; }

        /// <summary>Each multiple-choice document's request's file (its section).</summary>
        public IReadOnlyList<int> Sources { get; init; } = [];

        /// <summary>Documents per section (a file's), the first with <see cref="SectionFirst"/>'s request alone before them where <paramref name="warmup"/>.</summary>
        public IEnumerable<int> Sections(bool warmup)
        {
            int request = 0, section = 0, previous = -1;
            foreach (var document in Documents)
            {
                int file = Sources[request];
                if (file != previous && section > 0)
                {
                    yield return section;
                    section = 0;
                }

                section += warmup && previous < 0 ? 2 : 1; // the section's first request, alone, then this document
                previous = file;
                request += document.Choices.Count;
            }

            yield return section;
        }
    }

    /// <summary>
    /// The shard's documents of the input (read whole: request files are small); a document is a multiple-choice one's
    /// requests together, else a request. A shard of no documents is a usage error.
    /// </summary>
    private static RunSlice Slice(Input input, Corpus.Shard shard, string? shardFrom)
    {
        var documents = new List<MultipleChoiceDocument>();
        var harness = new List<(double, bool)>();
        var metrics = new List<string>();
        var files = new List<int>();
        var sources = new List<int>();
        var requests = input.Requests(documents, harness, metrics, files, sources).ToList();
        if (shard.Count == 1)
        {
            return new RunSlice(requests, documents, harness, 0, documents.Count > 0 ? documents.Count : requests.Count, metrics, files) { Sources = sources };
        }

        int total = documents.Count > 0 ? documents.Count : requests.Count;
        var (first, count) = shard.Range(total);
        if (count == 0)
        {
            throw CliException.Usage($"{shardFrom}: the run has {total} documents, fewer than its {shard.Count} shards, so this one would score none; give at most {total} shards.");
        }

        int firstRequest = documents.Count > 0 ? documents.Take((int)first).Sum(d => d.Choices.Count) : (int)first;
        int requestCount = documents.Count > 0 ? documents.Skip((int)first).Take((int)count).Sum(d => d.Choices.Count) : (int)count;
        int sectionFirst = documents.Count > 0 ? sources.IndexOf(sources[firstRequest]) : 0;
        return new RunSlice(requests.GetRange(firstRequest, requestCount), documents.Count > 0 ? documents.GetRange((int)first, (int)count) : [],
            harness.Count > 0 ? harness.GetRange(firstRequest, requestCount) : [], (int)first, total, metrics, files.Count > 0 ? files.GetRange(firstRequest, requestCount) : [])
        {
            SectionFirst = documents.Count > 0 && sectionFirst < firstRequest ? requests[sectionFirst] : null,
            Sources = documents.Count > 0 ? sources.GetRange(firstRequest, requestCount) : [],
        };
    }

    /// <summary>Opens a model, checked against the tokenizer's vocabulary and the prefix token where a request holds it.</summary>
    private static OnnxLanguageModel Open(ModelOptions models, ParseResult parse, string path, ModelText text, int? prefixToken)
    {
        var lm = models.OpenModel(parse, path, text);
        if (prefixToken >= lm.Vocab && Enumerable.Range(0, text.DocumentNames.Count).Any(d => text.Tokens.Document(d)[0] == prefixToken))
        {
            lm.Dispose();
            throw CliException.Usage($"the prefix token {prefixToken} is not in the vocabulary of {path} (0 to {lm.Vocab - 1}).");
        }

        return lm;
    }

    /// <summary>Every request scored by <paramref name="lm"/>, in the requests' order: its log-likelihood and greedy tokens.</summary>
    /// <param name="order">Where <paramref name="encoded"/>'s requests are reordered (<see cref="LoglikelihoodRequests.LongestFirst"/>), the request each one was; else null.</param>
    /// <param name="sharing">Where <paramref name="lm"/> reused its KV cache, and for how many tokens (added to).</param>
    internal static RequestScore[] Score(OnnxLanguageModel lm, TokenizedText encoded, int[]? order, ModelWindowOptions windows, CommonOptions.Engines engines, bool quiet, string label, PastSharing sharing)
    {
        using var source = new ModelRowSource(lm, encoded, windows);
        var scores = ProgressBar.Run(!quiet, label, source.Rows * source.RowBytes, progress => LoglikelihoodScores.Run(engines.List, source, progress));
        sharing.Add(source);
        var inOrder = new RequestScore[scores.Requests];
        for (int i = 0; i < inOrder.Length; i++)
        {
            inOrder[order?[i] ?? i] = scores.Score(i);
        }

        return inOrder;
    }

    /// <summary>Refuses a request whose continuation the context window cannot score whole, naming it (lm-evaluation-harness asserts it fits).</summary>
    private static void CheckLengths(TokenizedText encoded, IReadOnlyList<string> names, int context)
    {
        for (int d = 0; d < names.Count; d++)
        {
            if (encoded.Continuations![d] > context)
            {
                throw new InvalidFileException(names[d], $"has a continuation of {encoded.Continuations[d]} tokens, more than --context {context} scores in one window.");
            }
        }
    }

    /// <summary>What the documents are: LAMBADA passages, (context, continuation) requests, multiple-choice documents, or lm-evaluation-harness's samples.</summary>
    private sealed record Input(string[] Files, bool Samples, string Field, string? ContinuationField, string? ChoicesField, string GoldField, string? LabelsField, string Delimiter)
    {
        public string Task => ChoicesField is not null && ContinuationField is not null ? $"multiple choice: {ChoicesField}[i] + '{Delimiter}' + {ContinuationField}, gold {GoldField}"
            : ChoicesField is not null && LabelsField is not null ? $"multiple choice: {Field} + '{Delimiter}' + {ChoicesField}[i], true choices {LabelsField}"
            : ChoicesField is not null ? $"multiple choice: {Field} + '{Delimiter}' + {ChoicesField}[i], gold {GoldField}"
            : ContinuationField is not null ? $"{Field} -> {ContinuationField}" : "lambada (last word)";

        public static Input Parse(ParseResult parse, Option<string[]> textOption, Option<string[]> samplesOption, Option<string> field, Option<string?> continuationField, Option<string?> choicesField, Option<string> goldField, Option<string?> labelsField, Option<string> delimiter)
        {
            string? labels = parse.GetValue(labelsField);
            if (labels is { Length: 0 })
            {
                throw CliException.Usage("--labels-field: give the field (a dotted path) holding each document's labels of its true choices.");
            }

            string[]? text = FileListOption.Get(parse, textOption), samples = FileListOption.Get(parse, samplesOption);
            if ((text is null) == (samples is null))
            {
                throw CliException.Usage("give --text (documents, or requests in fields), --samples (lm-evaluation-harness's samples_TASK.jsonl), --hellaswag, --multiple-choice or --winogrande (llama.cpp's task files), one of them.");
            }

            if (samples is not null)
            {
                if (((Option[])[field, continuationField, choicesField, goldField]).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } fieldOption)
                {
                    throw CliException.Usage($"{fieldOption.Name} applies to --text: --samples holds each request as the harness rendered it.");
                }

                return new Input(samples, true, "", null, null, "", labels, parse.GetValue(delimiter)!);
            }

            string[] files = text!;
            string context = parse.GetValue(field)!, gold = parse.GetValue(goldField)!;
            string? continuation = parse.GetValue(continuationField), choices = parse.GetValue(choicesField);
            if (continuation is not null && choices is not null && parse.GetResult(field) is { Implicit: false })
            {
                throw CliException.Usage("--text-field: with --choices-field and --continuation-field each choice is a context (a multiple_input task's, as Winogrande's), scored with the continuation.");
            }

            if (labels is not null && parse.GetResult(goldField) is { Implicit: false })
            {
                throw CliException.Usage("--gold-field: with --labels-field a document is scored by its labels of the true choices, not by one gold.");
            }

            if (labels is not null && continuation is not null)
            {
                throw CliException.Usage("--labels-field: with --continuation-field each choice is a context (a multiple_input task's), scored by its gold alone.");
            }

            if (choices is null && ((Option[])[goldField, labelsField, delimiter]).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } stray)
            {
                throw CliException.Usage($"{stray.Name} applies to multiple-choice documents: give --choices-field (or --samples) too.");
            }

            if ((continuation ?? choices) is not null && files.FirstOrDefault(f => !ModelDocuments.HasFields(f) || (choices is not null && ParquetDocuments.IsParquet(f))) is { } plain)
            {
                throw CliException.Usage(choices is null
                    ? $"--continuation-field reads fields: {plain} is not a .jsonl or .parquet file."
                    : $"--choices-field reads a JSON array of each line: {plain} is not a .jsonl file.");
            }

            string?[] named = [choices is not null && continuation is not null ? null : context, continuation, choices, choices is null ? null : gold];
            if (named.OfType<string>().GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw CliException.Usage($"two options name the field '{twice.Key}': a request's context, continuation, choices and gold are each a field of their own.");
            }

            return new Input(files, false, context, continuation, choices, gold, labels, parse.GetValue(delimiter)!);
        }

        /// <summary>
        /// The requests of the files, in order; multiple-choice documents are added to <paramref name="documents"/> as they are
        /// read, and the harness's scores of the requests, from --samples, to <paramref name="harness"/>.
        /// </summary>
        /// <param name="sources">Each multiple-choice document's request's file (its section: documents that may begin alike).</param>
        public IEnumerable<LoglikelihoodRequest> Requests(List<MultipleChoiceDocument> documents, List<(double, bool)> harness, List<string> metrics, List<int> files, List<int> sources)
        {
            if (Samples)
            {
                return HarnessSamples.Read(Files, Delimiter, LabelsField).SelectMany(sample =>
                {
                    if (sample.Choices is { } document)
                    {
                        documents.Add(document);
                    }

                    harness.AddRange(sample.Harness);
                    metrics.AddRange(sample.Metrics.Where(m => !metrics.Contains(m)));
                    files.AddRange(Enumerable.Repeat(sample.File, Files.Length > 1 ? sample.Requests.Count : 0));
                    sources.AddRange(Enumerable.Repeat(sample.File, sample.Requests.Count));
                    return sample.Requests;
                });
            }

            if (ChoicesField is not null)
            {
                return Files.SelectMany((file, f) => ModelDocuments.ReadObjects([file]).SelectMany(line =>
                {
                    MultipleChoiceDocument document;
                    try
                    {
                        document = Document(line.Name, line.Object);
                    }
                    catch (InvalidOperationException e)
                    {
                        // A string that is not whole UTF-16 text (a lone surrogate escape, \ud800).
                        throw new InvalidFileException(line.Name, $"holds a string that is not text ({e.Message.Split('\n')[0]})");
                    }

                    documents.Add(document);
                    sources.AddRange(Enumerable.Repeat(f, document.Choices.Count));
                    return document.Requests(Delimiter);
                }));
            }

            if (ContinuationField is null)
            {
                return ModelDocuments.Read(Files, Field).Select(d => LoglikelihoodRequest.LastWord(d.Name, d.Content));
            }

            // Each file read once per field: the same lines or rows, in the same order (request files are small).
            return ModelDocuments.Read(Files, Field).Zip(ModelDocuments.Read(Files, ContinuationField, option: "--continuation-field"),
                (context, continuation) => context.Name == continuation.Name ? new LoglikelihoodRequest(context.Name, context.Content, continuation.Content)
                    : throw new InvalidOperationException($"{context.Name} and {continuation.Name} read as one request."));
        }

        private MultipleChoiceDocument Document(string name, JsonElement line)
        {
            string? shared = ContinuationField is null ? null : Member(name, line, ContinuationField, "--continuation-field", JsonValueKind.String).GetString()!;
            string context = shared is not null ? "" : Member(name, line, Field, "--text-field", JsonValueKind.String).GetString()!;
            var array = Member(name, line, ChoicesField!, "--choices-field", JsonValueKind.Array);
            var choices = new List<string>();
            foreach (var choice in array.EnumerateArray())
            {
                choices.Add(choice.ValueKind == JsonValueKind.String ? choice.GetString()!
                    : throw new InvalidFileException(name, $"\"{ChoicesField}\"[{choices.Count}] is a JSON {Kind(choice)}, not a string."));
            }

            if (LabelsField is not null)
            {
                var labels = HarnessSamples.Labels(name, line, LabelsField);
                return HarnessSamples.Checked(new MultipleChoiceDocument(name, context, choices, Math.Max(0, Array.IndexOf(labels, true))) { Labels = labels });
            }

            var gold = Member(name, line, GoldField, "--gold-field", null);
            int index = gold.ValueKind switch
            {
                JsonValueKind.Number when gold.TryGetInt32(out int i) => i,
                JsonValueKind.String when gold.GetString() is var g && choices.IndexOf(g!) is >= 0 and var found => found,
                JsonValueKind.String => throw new InvalidFileException(name, $"\"{GoldField}\" is \"{gold.GetString()}\", which is none of its {choices.Count} choices{(int.TryParse(gold.GetString(), out _) ? " (a gold that is a choice's index is a JSON number, not a string)" : "")}."),
                _ => throw new InvalidFileException(name, $"\"{GoldField}\" is a JSON {Kind(gold)}, not a choice's index or text."),
            };
            return HarnessSamples.Checked(new MultipleChoiceDocument(name, context, choices, index) { SharedContinuation = shared });
        }

        private static JsonElement Member(string name, JsonElement line, string field, string option, JsonValueKind? kind) =>
            !line.TryGetProperty(field, out var value) ? throw new InvalidFileException(name, $"has no \"{field}\" field ({option} names it).")
            : kind is { } k && value.ValueKind != k ? throw new InvalidFileException(name, $"\"{field}\" is a JSON {Kind(value)}, not a{(k == JsonValueKind.Array ? "n array of strings" : " string")}.")
            : value;

        private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();
    }
}
