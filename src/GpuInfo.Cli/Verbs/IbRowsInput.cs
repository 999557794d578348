using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// The options and output of <c>ib</c> and <c>ib-curve</c> over rows of model outputs
/// (<c>--logits F</c> or <c>--probs F</c>, one row per context, or <c>--model M</c> run over a text,
/// one row per scored token) besides a dense <c>--joint</c>: opening the rows, per-iteration progress
/// on stderr, and the per-cluster summary.
/// </summary>
internal sealed class IbRowsInput
{
    private readonly ModelOptions _model = new();

    public Option<string?> Joint { get; } = new("--joint") { Description = "Non-negative [X,Y] matrix (.npy/.safetensors/.pt); normalised to p(x,y)." };

    public Option<string[]> Logits { get; } = FileListOption.Create("--logits", "Rows of logits [contexts, vocab] (.npy/.safetensors/.pt, fp32/fp16/bf16, or a llama.cpp .kld): p(y|x) = softmax(z/T), read in chunks.");

    public Option<string[]> Probabilities { get; } = FileListOption.Create("--probs", "Rows of probabilities [contexts, vocab], each summing to 1.");

    public Option<string?> Model { get; } = new("--model")
    {
        Description = "An ONNX causal LM run over --text (or --tokens) as for perplexity: one context per scored token, p(y|x) = softmax(its logits/T). The model runs once when the rows fit --resident-mib.",
    };

    public Option<string?> Weights { get; } = new("--weights") { Description = "p(x) as non-negative weights, one per row (.npy); default uniform." };

    public Option<double> Temperature { get; } = new("--temperature") { Description = "T in softmax(z/T) for --logits and --model.", DefaultValueFactory = _ => 1 };

    public Option<string?> Vocab { get; } = new("--vocab") { Description = "Token strings, one per line, to show tokens by name (--logits, --probs, or --model with --tokens)." };

    public Option<int> Examples { get; } = new("--examples") { Description = "With --model: contexts shown per cluster (the most certain ones, ending in different tokens), as the text before each and its token.", DefaultValueFactory = _ => 3 };

    public Option<int> TopTokens { get; } = new("--top-tokens") { Description = "Top tokens by q(y|t) shown per cluster.", DefaultValueFactory = _ => 8 };

    public Option<int?> MaxIterations { get; } = new("--max-iterations") { Description = "Iterations per restart (default 2000 for --joint, 300 for rows)." };

    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = "Stop when the objective changes by less than this (relative; default 1e-12)." };

    public Option<long?> ResidentMiB { get; } = new("--resident-mib")
    {
        Description = "Keep the rows in memory across iterations when they fit this many MiB: on the CPU their float32 distributions (rows x vocab x 4 bytes, formed in the first iteration), on a GPU the raw rows in device memory. 0 reads the file in chunks every iteration (memory bounded by the chunks). Default: 1024 on the CPU, a quarter of device memory on a GPU.",
    };

    /// <summary>Adds the options; <paramref name="clusterSummary"/>: the verb shows each cluster's tokens and contexts (ib does, ib-curve does not), so takes --vocab, --top-tokens and --examples.</summary>
    public void AddTo(Command command, bool clusterSummary = true)
    {
        foreach (var option in new Option[] { Joint, Logits, Probabilities, Model, Weights, Temperature, Vocab, TopTokens, Examples, MaxIterations, Tolerance, ResidentMiB })
        {
            if (clusterSummary || (option != Vocab && option != TopTokens && option != Examples))
            {
                command.Options.Add(option);
            }
        }

        _model.AddTo(command);
    }

    /// <summary>
    /// The file the distribution comes from (the model's, for --model; the first of several rows files,
    /// with how many follow), checking that exactly one of --joint, --logits, --probs, --model is given
    /// and that the options given apply to it.
    /// </summary>
    public (string Path, bool Rows) Input(ParseResult parse)
    {
        var given = new[] { ("--joint", parse.GetValue(Joint)), ("--logits", Named(RowFiles(parse, Logits))), ("--probs", Named(RowFiles(parse, Probabilities))), ("--model", parse.GetValue(Model)) }
            .Where(g => g.Item2 is not null).ToArray();
        if (given.Length != 1)
        {
            throw CliException.Usage("give exactly one of --joint, --logits, --probs or --model.");
        }

        if (given[0].Item1 != "--model" && _model.FirstGiven(parse) is { } modelOption)
        {
            throw CliException.Usage($"{modelOption} applies to --model only.");
        }

        if (given[0].Item1 == "--model")
        {
            _model.Windows(parse, parse.GetValue(Model));
            _model.CheckProvider(parse);
            if (parse.GetValue(Vocab) is not null && FileListOption.Get(parse, _model.Tokens) is null)
            {
                throw CliException.Usage("--vocab names the tokens of --logits, --probs and --model with --tokens; with --text the tokenizer names them.");
            }
        }
        else if (parse.GetResult(Examples) is { Implicit: false })
        {
            throw CliException.Usage("--examples applies to --model only.");
        }

        if (parse.GetValue(Examples) < 0)
        {
            throw CliException.Usage($"--examples must be >= 0, got {parse.GetValue(Examples)}.");
        }

        bool rows = given[0].Item1 != "--joint";
        if (!rows && (parse.GetValue(Weights) is not null || parse.GetResult(Temperature) is { Implicit: false }))
        {
            throw CliException.Usage("--weights and --temperature apply to --logits and --probs, not --joint.");
        }

        if (RowFiles(parse, Probabilities) is not null && parse.GetResult(Temperature) is { Implicit: false })
        {
            throw CliException.Usage("--temperature applies to --logits, not --probs.");
        }

        if (parse.GetValue(ResidentMiB) is { } mib && (mib < 0 || mib > long.MaxValue >> 20))
        {
            throw CliException.Usage($"--resident-mib must be >= 0, got {mib}.");
        }

        if (!rows && parse.GetValue(ResidentMiB) is not null)
        {
            throw CliException.Usage("--resident-mib applies to --logits and --probs, not --joint.");
        }

        if (!rows && (parse.GetValue(Vocab) is not null || parse.GetResult(TopTokens) is { Implicit: false }))
        {
            throw CliException.Usage("--vocab and --top-tokens name the tokens of rows (--logits, --probs, --model), not --joint.");
        }

        if (parse.GetValue(TopTokens) < 0)
        {
            throw CliException.Usage($"--top-tokens must be >= 0, got {parse.GetValue(TopTokens)}.");
        }

        return (given[0].Item2!, rows);
    }

    private static string[]? RowFiles(ParseResult parse, Option<string[]> option) => FileListOption.Get(parse, option);

    private static string? Named(string[]? files) => files switch
    {
        null => null,
        [var one] => one,
        _ => $"{files[0]} (+{files.Length - 1} more {(files.Length == 2 ? "file" : "files")})",
    };

    /// <summary>The engine options --resident-mib sets (on top of --device).</summary>
    public InfoEngineOptions EngineOptions(ParseResult parse, InfoEngineOptions options) =>
        options with { IbResidentBytes = parse.GetValue(ResidentMiB) is { } mib ? mib << 20 : null };

    public IbOptions Options(ParseResult parse, bool rows, IbOptions options) => options with
    {
        MaxIterations = parse.GetValue(MaxIterations) ?? (rows ? 300 : options.MaxIterations),
        Tolerance = parse.GetValue(Tolerance) ?? options.Tolerance,
    };

    /// <summary>Opens the rows (of a file, or of a model over a text); the caller disposes them.</summary>
    public OpenedRows Open(ParseResult parse, string path)
    {
        double temperature = parse.GetValue(Temperature);
        if (!(temperature > 0) || double.IsInfinity(temperature))
        {
            throw CliException.Usage($"--temperature must be finite and > 0, got {temperature}.");
        }

        OnnxLanguageModel? model = null;
        RowSource? source = null;
        try
        {
            ModelContexts? contexts = null;
            if (parse.GetValue(Model) is not null)
            {
                var text = _model.ReadModelText(parse, keepText: true, model: path);
                model = _model.OpenModel(parse, path, text);
                var modelSource = new ModelRowSource(model, text.Tokens, _model.Windows(parse, path));
                source = modelSource;
                contexts = new ModelContexts(modelSource, text, parse.GetValue(Vocab) is { } vocabPath ? ReadVocab(vocabPath, model.Vocab) : null);
            }
            else
            {
                source = RowSources.Open(RowFiles(parse, Logits) ?? RowFiles(parse, Probabilities)!, null);
            }

            double[]? weights = parse.GetValue(Weights) is { } weightsPath ? ReadWeights(weightsPath, source) : null;
            // Read before the solve, so that a bad --vocab fails at once.
            string[]? names = contexts is null && parse.GetValue(Vocab) is { } namesPath ? ReadVocab(namesPath, source.Vocab) : null;
            var rows = RowFiles(parse, Probabilities) is not null
                ? ConditionalRows.FromProbabilities(source, weights)
                : ConditionalRows.FromLogits(source, temperature, weights);
            return new OpenedRows(rows, contexts, model, names);
        }
        catch
        {
            source?.Dispose();
            model?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where the rows will not stay resident, every iteration reads them again: a pipe cannot be read
    /// again (a usage error), a model runs again (said on stderr).
    /// </summary>
    public static void CheckRereads(InfoEngine engine, OpenedRows opened, TextWriter stderr)
    {
        if (engine.IbKeepsRowsResident(opened.Rows))
        {
            return;
        }

        if (opened.Rows.Source.IsPipe)
        {
            long mib = ((4L * opened.Rows.Contexts * opened.Rows.Vocab) + (1 << 20) - 1) >> 20;
            throw CliException.Usage($"{opened.Rows.Source.Name} is a pipe, read once: the IB reads its rows in every iteration unless they stay in memory, which needs --resident-mib {mib} or more.");
        }

        if (opened.Contexts is not null)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gpuinfo: note: the {opened.Rows.Contexts} x {opened.Rows.Vocab} rows of {opened.Rows.Source.Name} do not fit --resident-mib: the model runs again in every iteration; a larger --resident-mib keeps them."));
        }
    }

    /// <summary>One line per iteration on stderr, with the time since the previous one.</summary>
    public static IbProgressPrinter Progress(TextWriter stderr) => new(stderr);

    /// <summary>Per cluster: its mass, how many contexts it holds (by argmax), and its top tokens by q(y|t).</summary>
    public JsonArray Clusters(ParseResult parse, IbResult r, OpenedRows opened) =>
        Summary(r, opened.Rows.Vocab, parse.GetValue(TopTokens), parse.GetValue(Examples), opened.Names, opened.Contexts);

    /// <summary>
    /// Per cluster, largest mass first: its mass, how many contexts it holds (by argmax), its
    /// <paramref name="topTokens"/> top tokens by q(y|t) (named by <paramref name="names"/> or the
    /// model's tokenizer), and with a model's <paramref name="contexts"/> up to <paramref name="examples"/> of them.
    /// </summary>
    public static JsonArray Summary(IbResult r, int vocab, int topTokens, int examples, string[]? names, ModelContexts? contexts)
    {
        int top = Math.Min(topTokens, vocab);
        var exampleRows = contexts is null ? null : ExampleRows(r, examples, contexts.LastToken);
        int clusters = r.ClusterMarginal.Length;
        var sizes = new int[clusters];
        foreach (int a in r.Assignments)
        {
            sizes[a]++;
        }

        var result = new JsonArray();
        var heap = new PriorityQueue<int, (double Value, int Negated)>(top + 1);
        var best = new int[top];
        foreach (int k in Enumerable.Range(0, clusters).OrderByDescending(k => r.ClusterMarginal[k]))
        {
            var tokens = new JsonArray();
            // One heap scan a row: sorting each (OrderByDescending) took about 1.1 s at 256 clusters x 50257 tokens.
            int found = Backends.Cpu.TopIndices.Of(r.Decoder.AsSpan((int)((long)k * vocab), vocab), best, heap);
            foreach (int y in best.AsSpan(0, found))
            {
                var token = new JsonObject { ["token"] = y, ["p"] = r.Decoder[(long)k * vocab + y] };
                if ((names is not null ? names[y] : contexts?.TokenText(y)) is { } text)
                {
                    token["text"] = text;
                }

                tokens.Add(token);
            }

            var cluster = new JsonObject { ["cluster"] = k, ["mass"] = r.ClusterMarginal[k], ["contexts"] = sizes[k], ["top_tokens"] = tokens };
            if (exampleRows is not null)
            {
                cluster["examples"] = new JsonArray([.. exampleRows[k].Select(row => (JsonNode)contexts!.Example(row))]);
            }

            result.Add(cluster);
        }

        return result;
    }

    /// <summary>
    /// Per cluster, up to <paramref name="count"/> of its rows (by argmax), the most certain first
    /// (highest q(t|x); the first row on ties), each ending in a token no earlier pick ends in while
    /// the cluster has such rows: a cluster's contexts are shown by how they differ, not by the same
    /// last token again.
    /// </summary>
    private static List<int>[] ExampleRows(IbResult r, int count, Func<int, int> lastToken)
    {
        int clusters = r.ClusterMarginal.Length;
        var members = Enumerable.Range(0, clusters).Select(_ => new List<int>()).ToArray();
        for (int x = 0; x < r.Assignments.Length; x++)
        {
            members[r.Assignments[x]].Add(x);
        }

        return [.. members.Select((rows, k) =>
        {
            var ranked = rows.OrderByDescending(x => r.Encoder[((long)x * clusters) + k]).ThenBy(x => x).ToList();
            var picked = ranked.DistinctBy(lastToken).Take(count).ToList();
            picked.AddRange(ranked.Except(picked).Take(count - picked.Count));
            return picked;
        })];
    }

    /// <summary>The summary's lines for the human-readable table.</summary>
    public static IEnumerable<(string Key, string Value)> ClusterLines(JsonArray clusters) =>
        clusters.SelectMany(c => new[]
        {
            (
                $"cluster {c!["cluster"]}",
                string.Create(CultureInfo.InvariantCulture, $"mass {(double)c["mass"]!:F4}  contexts {c["contexts"]}  top: ")
                + string.Join(" ", c["top_tokens"]!.AsArray().Select(t => string.Create(
                    CultureInfo.InvariantCulture, $"{(t!["text"] is { } text ? Quote((string)text!) : (string)t["token"]!.ToString())} {(double)t["p"]!:G3}")))),
        }.Concat((c["examples"]?.AsArray() ?? []).Select(e => ("  e.g.", ExampleLine(e!)))));

    /// <summary>"…text before" then the token in brackets, or the row and token ids without a text.</summary>
    private static string ExampleLine(JsonNode e) => e["context"] is { } context
        ? $"{Quote((string)context!)} [{Quote((string)e["next"]!)}]"
        : string.Create(CultureInfo.InvariantCulture, $"row {e["row"]}: token {e["token_index"]} = {(e["next"] is { } next ? Quote((string)next!) : e["next_id"]!.ToString())}");

    /// <summary>The text in quotes, with line breaks, tabs and other control characters escaped.</summary>
    private static string Quote(string text)
    {
        var quoted = new StringBuilder("'", text.Length + 2);
        foreach (char c in text)
        {
            quoted.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return quoted.Append('\'').ToString();
    }

    private static double[] ReadWeights(string path, RowSource source)
    {
        var m = MatrixFile.Read(path);
        if (m.GetLength(0) != 1)
        {
            throw CliException.BadData($"{path}: expected a vector of weights, one per row; the shape is [{m.GetLength(0)}, {m.GetLength(1)}].");
        }

        var weights = Enumerable.Range(0, m.GetLength(1)).Select(i => m[0, i]).ToArray();
        if (weights.Length != source.Rows)
        {
            throw CliException.BadData($"{path}: {weights.Length} weights for {source.Rows} rows of {source.Name}.");
        }

        int bad = Array.FindIndex(weights, w => !(w >= 0) || double.IsInfinity(w));
        if (bad >= 0)
        {
            throw CliException.BadData($"{path}: weight {bad} is {weights[bad].ToString(CultureInfo.InvariantCulture)}; weights must be finite and >= 0.");
        }

        if (!(weights.Sum() > 0))
        {
            throw CliException.BadData($"{path}: all weights are 0.");
        }

        return weights;
    }

    private static string[] ReadVocab(string path, int vocab)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw CliException.BadData($"{path}: no such file.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.BadData(Directory.Exists(path) ? $"{path}: is a folder, not a vocabulary file." : $"{path}: cannot read: {e.Message}");
        }

        if (lines.Length != vocab)
        {
            // More names than classes is as sure a sign of another vocabulary as fewer.
            throw CliException.BadData($"{path}: {lines.Length} token strings for a vocabulary of {vocab}; give one per class, in id order.");
        }

        return lines;
    }
}

/// <summary>Rows opened for the IB, with what names their contexts (a model's rows), and the model they came from (disposed with them).</summary>
internal sealed class OpenedRows(ConditionalRows rows, ModelContexts? contexts, IDisposable? model, string[]? names) : IDisposable
{
    public ConditionalRows Rows { get; } = rows;

    public ModelContexts? Contexts { get; } = contexts;

    /// <summary>The tokens' names from --vocab for rows of a file, else null (a model's contexts name their own).</summary>
    public string[]? Names { get; } = names;

    public void Dispose()
    {
        Rows.Source.Dispose();
        model?.Dispose();
    }
}
