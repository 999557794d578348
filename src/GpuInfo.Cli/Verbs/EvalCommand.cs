using GpuInfo.Formats;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo eval</c>: perplexity and friends of a model's logits against targets, streamed in
/// row chunks. Per token: cross-entropy (PyTorch semantics), entropy and argmax; totals in float64.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var logits = FileListOption.Create("--logits", "Logits [N,V] or [B,T,V] (.npy, .safetensors or torch.save .pt), a llama.cpp .kld file (log-probs with their tokens), or a .npy stream from a named pipe or - (standard input).", required: true);
        var targets = FileListOption.Create("--targets", "Targets [N] or [B,T], int32 or int64 (required, except for a .kld file, which carries its tokens); one per logits file.");
        var tensor = new Option<string?>("--tensor") { Description = "Tensor name inside a .safetensors or .pt logits file (default: the only one)." };
        var targetsTensor = new Option<string?>("--targets-tensor") { Description = "Tensor name inside a .safetensors or .pt targets file." };
        var ignore = new Option<long>("--ignore-index") { Description = "Targets equal to this are not scored (PyTorch's default, -100).", DefaultValueFactory = _ => -100 };
        var smoothing = new Option<float>("--label-smoothing") { Description = "Label smoothing e in [0,1] (PyTorch semantics).", DefaultValueFactory = _ => 0f };
        var temperature = new Option<float>("--temperature") { Description = "Divide logits by T > 0.", DefaultValueFactory = _ => 1f };
        var shift = new Option<bool>("--shift") { Description = "Score position t against the target at t+1 within each sequence (causal LM)." };
        var rates = new TextRates();
        var bytesFile = FileListOption.Create("--bytes", "Per-token byte counts [N] or [B,T] (int), aligned with the targets: adds bits_per_byte and byte_perplexity over the scored tokens; one per targets file.");
        var plot = new Option<string?>("--plot") { Description = "Draw the reliability diagram of the top-1 predictions (accuracy against confidence in 15 bins, over the confidences' histogram), as .svg or .png." };
        var topK = new Option<string?>("--top-k") { Description = "Top-k accuracy for each k of a comma-separated list (e.g. 1,5,10)." };
        var corpus = new CorpusOptions("Write a per-token value (float32 .npy): the loss in nats (0 for ignored targets, NaN where --shift leaves none) unless --per-token-measure names another.");
        var perTokenMeasure = PerTokenMeasures.Evaluation();
        var command = new Command("eval", "Cross-entropy, perplexity, bits per token, entropy, top-1 accuracy and calibration (ECE) of logits against targets.")
        {
            logits, targets, tensor, targetsTensor, ignore, smoothing, temperature, shift, topK, bytesFile, plot, perTokenMeasure.Option,
        };
        corpus.AddTo(command);
        rates.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var options = new CrossEntropyOptions
            {
                IgnoreIndex = parse.GetValue(ignore),
                LabelSmoothing = parse.GetValue(smoothing),
                Temperature = parse.GetValue(temperature),
            };
            string[] logitsPaths = parse.GetValue(logits)!;
            string[]? targetsPaths = FileListOption.Get(parse, targets), bytesPaths = FileListOption.Get(parse, bytesFile);
            const string targetsRequired = "Option '--targets' is required (except with a .kld file, which carries its tokens).";
            if (targetsPaths is null && (parse.GetValue(shift) || bytesPaths is not null))
            {
                throw CliException.Usage(targetsRequired);
            }

            // Opened before anything else reads the path: a pipe can be opened and read only once.
            using var source = RowSources.Open(logitsPaths, targetsPaths, new FileRowSourceOptions
            {
                LogitsTensor = parse.GetValue(tensor),
                TargetsTensor = parse.GetValue(targetsTensor),
                Shift = parse.GetValue(shift),
            }, bytesPaths);
            if (!source.HasTargets)
            {
                throw CliException.Usage(targetsRequired);
            }

            options.Validate(source.Vocab);
            var (shard, shardFrom) = corpus.ParseShard(parse);
            corpus.CheckPipes(parse, shard, source);
            var (bytes, words) = rates.Parse(parse);
            if (bytes is not null && bytesPaths is not null)
            {
                throw CliException.Usage("give --bytes (per token) or --total-bytes, not both.");
            }

            int[]? ks = ParseTopK(parse.GetValue(topK));
            CheckTopK(ks, source.Vocab);
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            var perRow = perTokenMeasure.Get(parse, corpus.PerToken);
            if (shard.Count > 1 && (bytes ?? words) is not null)
            {
                throw CliException.Usage("--total-bytes and --total-words count the whole text: give them to 'gpuinfo merge', not to one shard.");
            }

            using var engines = common.CreateEngines(parse);
            bool json = parse.GetValue(common.Json);
            var partial = corpus.Run(parse, source, source.RowBytes, "eval", json, shard, run => CorpusRun.Evaluate(engines.List, source, options, run with { TopK = ks, EvaluationPerRow = perRow }));
            var report = Report(partial.Evaluation!, partial.IgnoredTargets, engines.Description, clock.Elapsed.TotalSeconds);
            AddShard(report, shard, shardFrom);
            if (bytesPaths is not null && partial.Evaluation!.ScoredBytes == 0)
            {
                throw new InvalidFileException(string.Join(", ", bytesPaths), $"the byte counts of the {partial.Evaluation.Tokens} scored tokens sum to 0: there is no text to give bits per byte of.");
            }

            TextRates.AddTo(report, partial.Evaluation!, bytes, words);
            if (plotPath is not null)
            {
                ReliabilityPlot.Save(plotPath, partial.Evaluation!.Calibration!, Path.GetFileName(source.Name));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                Tables.Console(stdout).Write(Tables.KeyValue($"eval {source.Name} ({DeviceNames.Kind(engines.First.Device.Kind)})", report.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    public static int[]? ParseTopK(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ks = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ks[i]) || ks[i] < 1)
            {
                throw CliException.Usage($"--top-k must be a list of integers >= 1 such as 1,5,10; got '{text}'.");
            }
        }

        return ks.Distinct().Order().ToArray();
    }

    /// <summary>A k beyond the vocabulary would put every token in the top k.</summary>
    public static void CheckTopK(int[]? ks, int vocab)
    {
        // k = V is as trivial as k > V: every token is in the top k, so accuracy and overlap read 1.
        if (ks is [.., int k] && k >= vocab)
        {
            throw CliException.Usage($"--top-k {k} is not below the vocabulary ({vocab} tokens): every token would be in the top k.");
        }
    }

    /// <summary>Adds which shard ran and where it came from, when not the whole input.</summary>
    public static void AddShard(JsonObject report, Shard shard, string? from)
    {
        if (from is not null)
        {
            report["shard"] = shard.ToString();
            report["shard_from"] = from;
        }
    }

    private static JsonNode? TopK(PerplexityAccumulator t, Func<int, double> value) => t.TopKHits.Count == 0 ? null
        : new JsonObject(t.TopKHits.Keys.Select(k => KeyValuePair.Create(k.ToString(System.Globalization.CultureInfo.InvariantCulture), Json.Number(value(k)))));

    public static JsonObject Report(PerplexityAccumulator t, long ignored, string device, double seconds)
    {
        var report = new JsonObject
        {
            ["tokens"] = t.Tokens,
            ["ignored"] = ignored,
            ["mean_nll"] = Json.Number(t.MeanNll),
            ["mean_nll_se"] = Json.Number(t.MeanNllError),
            ["perplexity"] = Json.Number(t.Perplexity),
            ["perplexity_se"] = Json.Number(t.PerplexityError),
            ["bits_per_token"] = Json.Number(t.BitsPerToken),
            ["bits_per_token_se"] = Json.Number(t.BitsPerTokenError),
            ["mean_entropy"] = Json.Number(t.MeanEntropy),
            ["mean_entropy_se"] = Json.Number(t.MeanEntropyError),
            ["top1_accuracy"] = Json.Number(t.Top1Accuracy),
            ["top1_accuracy_se"] = Json.Number(t.Top1AccuracyError),
            ["mean_confidence"] = Json.Number(t.Calibration?.MeanConfidence ?? double.NaN),
            ["ece"] = Json.Number(t.Calibration?.ExpectedCalibrationError ?? double.NaN),
            ["mce"] = Json.Number(t.Calibration?.MaximumCalibrationError ?? double.NaN),
            ["rmsce"] = Json.Number(t.Calibration?.RootMeanSquareCalibrationError ?? double.NaN),
            ["brier"] = Json.Number(t.Calibration?.BrierScore ?? double.NaN),
            ["brier_se"] = Json.Number(t.Calibration?.BrierScoreError ?? double.NaN),
            ["calibration_bins"] = t.Calibration is { } c
                ? new JsonArray([.. c.Bins().Select(b => (JsonNode)new JsonObject
                {
                    ["low"] = b.Low,
                    ["high"] = b.High,
                    ["tokens"] = b.Tokens,
                    ["confidence"] = Json.Number(b.Confidence),
                    ["accuracy"] = Json.Number(b.Accuracy),
                })])
                : null,
            ["device"] = device,
            ["seconds"] = Math.Round(seconds, 3),
        };
        if (t.TopKHits.Count > 0)
        {
            report.Insert(report.IndexOf("device"), "top_k_accuracy", TopK(t, t.TopKAccuracy));
            report.Insert(report.IndexOf("device"), "top_k_accuracy_se", TopK(t, t.TopKAccuracyError));
        }

        return report;
    }
}
