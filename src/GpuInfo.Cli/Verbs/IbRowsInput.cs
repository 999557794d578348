using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// The options and output of <c>ib</c> and <c>ib-curve</c> over rows of model outputs
/// (<c>--logits F</c> or <c>--probs F</c>, one row per context) besides a dense <c>--joint</c>:
/// opening the rows, per-iteration progress on stderr, and the per-cluster summary.
/// </summary>
internal sealed class IbRowsInput
{
    public Option<string?> Joint { get; } = new("--joint") { Description = "Non-negative [X,Y] matrix (.npy/.safetensors); normalised to p(x,y)." };

    public Option<string?> Logits { get; } = new("--logits") { Description = "Rows of logits [contexts, vocab] (.npy/.safetensors, fp32/fp16/bf16, or a llama.cpp .kld): p(y|x) = softmax(z/T), read in chunks." };

    public Option<string?> Probabilities { get; } = new("--probs") { Description = "Rows of probabilities [contexts, vocab], each summing to 1." };

    public Option<string?> Weights { get; } = new("--weights") { Description = "p(x) as non-negative weights, one per row (.npy); default uniform." };

    public Option<double> Temperature { get; } = new("--temperature") { Description = "T in softmax(z/T) for --logits.", DefaultValueFactory = _ => 1 };

    public Option<string?> Vocab { get; } = new("--vocab") { Description = "Token strings, one per line, to show top tokens by name." };

    public Option<int> TopTokens { get; } = new("--top-tokens") { Description = "Top tokens by q(y|t) shown per cluster.", DefaultValueFactory = _ => 8 };

    public Option<int?> MaxIterations { get; } = new("--max-iterations") { Description = "Iterations per restart (default 2000 for --joint, 300 for rows)." };

    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = "Stop when the objective changes by less than this (relative; default 1e-12)." };

    public Option<long?> ResidentMiB { get; } = new("--resident-mib")
    {
        Description = "Keep the rows in memory across iterations when they fit this many MiB: on the CPU their float32 distributions (rows x vocab x 4 bytes, formed in the first iteration), on a GPU the raw rows in device memory. 0 reads the file in chunks every iteration (memory bounded by the chunks). Default: 1024 on the CPU, a quarter of device memory on a GPU.",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Joint, Logits, Probabilities, Weights, Temperature, Vocab, TopTokens, MaxIterations, Tolerance, ResidentMiB })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The file the distribution comes from, checking that exactly one of --joint, --logits, --probs is given.</summary>
    public (string Path, bool Rows) Input(ParseResult parse)
    {
        var given = new[] { ("--joint", parse.GetValue(Joint)), ("--logits", parse.GetValue(Logits)), ("--probs", parse.GetValue(Probabilities)) }
            .Where(g => g.Item2 is not null).ToArray();
        if (given.Length != 1)
        {
            throw CliException.Usage("give exactly one of --joint, --logits or --probs.");
        }

        bool rows = given[0].Item1 != "--joint";
        if (!rows && (parse.GetValue(Weights) is not null || parse.GetResult(Temperature) is { Implicit: false }))
        {
            throw CliException.Usage("--weights and --temperature apply to --logits and --probs, not --joint.");
        }

        if (parse.GetValue(Probabilities) is not null && parse.GetResult(Temperature) is { Implicit: false })
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

        if (parse.GetValue(TopTokens) < 0)
        {
            throw CliException.Usage($"--top-tokens must be >= 0, got {parse.GetValue(TopTokens)}.");
        }

        return (given[0].Item2!, rows);
    }

    /// <summary>The engine options --resident-mib sets (on top of --device).</summary>
    public InfoEngineOptions EngineOptions(ParseResult parse, InfoEngineOptions options) =>
        options with { IbResidentBytes = parse.GetValue(ResidentMiB) is { } mib ? mib << 20 : null };

    public IbOptions Options(ParseResult parse, bool rows, IbOptions options) => options with
    {
        MaxIterations = parse.GetValue(MaxIterations) ?? (rows ? 300 : options.MaxIterations),
        Tolerance = parse.GetValue(Tolerance) ?? options.Tolerance,
    };

    /// <summary>Opens the rows; the caller disposes the source.</summary>
    public (RowSource Source, ConditionalRows Rows) Open(ParseResult parse, string path)
    {
        double temperature = parse.GetValue(Temperature);
        if (!(temperature > 0) || double.IsInfinity(temperature))
        {
            throw CliException.Usage($"--temperature must be finite and > 0, got {temperature}.");
        }

        var source = RowSources.Open(path);
        try
        {
            double[]? weights = parse.GetValue(Weights) is { } weightsPath ? ReadWeights(weightsPath, source) : null;
            var rows = parse.GetValue(Probabilities) is not null
                ? ConditionalRows.FromProbabilities(source, weights)
                : ConditionalRows.FromLogits(source, temperature, weights);
            return (source, rows);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>One line per iteration on stderr, with the time since the previous one.</summary>
    public static IbProgressPrinter Progress(TextWriter stderr) => new(stderr);

    /// <summary>Per cluster: its mass, how many contexts it holds (by argmax), and its top tokens by q(y|t).</summary>
    public JsonArray Clusters(ParseResult parse, IbResult r, int vocab)
    {
        var names = parse.GetValue(Vocab) is { } vocabPath ? ReadVocab(vocabPath, vocab) : null;
        int top = Math.Min(parse.GetValue(TopTokens), vocab);
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
                if (names is not null)
                {
                    token["text"] = names[y];
                }

                tokens.Add(token);
            }

            result.Add(new JsonObject { ["cluster"] = k, ["mass"] = r.ClusterMarginal[k], ["contexts"] = sizes[k], ["top_tokens"] = tokens });
        }

        return result;
    }

    /// <summary>The summary's lines for the human-readable table.</summary>
    public static IEnumerable<(string Key, string Value)> ClusterLines(JsonArray clusters) =>
        clusters.Select(c => (
            $"cluster {c!["cluster"]}",
            string.Create(CultureInfo.InvariantCulture, $"mass {(double)c["mass"]!:F4}  contexts {c["contexts"]}  top: ")
            + string.Join(" ", c["top_tokens"]!.AsArray().Select(t => string.Create(
                CultureInfo.InvariantCulture, $"{(t!["text"] is { } text ? Quote((string)text!) : (string)t["token"]!.ToString())} {(double)t["p"]!:G3}")))));

    private static string Quote(string text) => $"'{text.Replace("\n", "\\n", StringComparison.Ordinal)}'";

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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot read: {e.Message}");
        }

        if (lines.Length < vocab)
        {
            throw CliException.BadData($"{path}: {lines.Length} token strings for a vocabulary of {vocab}.");
        }

        return lines;
    }
}
