using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// Random mutations of the files users hand to the CLI that FormatFuzzTests does not cover (shard
/// partials for <c>merge</c>, llama.cpp <c>.kld</c> files for <c>eval</c> and <c>compare</c>): each run
/// must succeed or fail as bad data (exit 3, one line naming the problem), never as an internal error.
/// </summary>
public sealed class CliFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("eval", 5000)]
    [InlineData("compare", 6000)]
    public void Mutated_partials_merge_or_fail_as_bad_data(string kind, int seedBase)
    {
        string p = CliRunner.Golden("base.npy"), q = CliRunner.Golden("test.npy"), y = CliRunner.Golden("targets.npy");
        var parts = new[] { _dir.File("part0.json"), _dir.File("part1.json") };
        for (int i = 0; i < 2; i++)
        {
            string[] run = kind == "eval"
                ? ["eval", "--logits", p, "--targets", y, "--shift", "--top-k", "1,3"]
                : ["compare", "--base", p, "--test", q, "--targets", y, "--top-k", "3"];
            CliRunner.Json([.. run, "--shard", $"{i}/2", "--partial", parts[i], "--device", "cpu"]);
        }

        var valid = parts.Select(File.ReadAllText).ToArray();
        int merged = 0, refused = 0;
        for (int m = 0; m < 400; m++)
        {
            var rng = new Random(seedBase + m);
            int which = rng.Next(2);
            string mutant = rng.Next(3) == 0 ? Encoding.UTF8.GetString(Fuzz.Mutate(Encoding.UTF8.GetBytes(valid[which]), rng)) : MutateJson(valid[which], rng);
            File.WriteAllText(parts[which], mutant);
            var (code, stdout, stderr) = CliRunner.Run(["merge", .. parts, "--json"]);
            Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"mutation {m} (seed {seedBase + m}) of {kind} partial {which}", [ExitCode.BadData]);
            (code == 0 ? ref merged : ref refused)++;
            File.WriteAllText(parts[which], valid[which]);
        }

        Assert.True(refused > 0, $"the fuzzer should produce broken partials ({merged} merged, {refused} refused)");
    }

    [Fact]
    public void Mutated_kld_files_evaluate_or_fail_as_bad_data()
    {
        var data = new Reference.TestData(7);
        const int context = 12, vocab = 37, chunks = 2;
        var tokens = Enumerable.Range(0, context * chunks).Select(_ => data.Rng.Next(vocab)).ToArray();
        string valid = _dir.File("valid.kld");
        KldFormat.Write(valid, context, vocab, tokens, (c, t, row) =>
        {
            for (int j = 0; j < row.Length; j++)
            {
                row[j] = (float)(data.Rng.NextDouble() * 8);
            }
        });
        var bytes = File.ReadAllBytes(valid);
        string path = _dir.File("fuzz.kld");
        int read = 0, refused = 0;
        for (int m = 0; m < 1500; m++)
        {
            var rng = new Random(7000 + m);
            File.WriteAllBytes(path, Fuzz.Mutate(bytes, rng));
            var (code, stdout, stderr) = m % 2 == 0
                ? CliRunner.Run("eval", "--logits", path, "--json", "--device", "cpu")
                : CliRunner.Run("compare", "--base", path, "--test", valid, "--json", "--device", "cpu");
            Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"mutation {m} (seed {7000 + m}) of a .kld file", [ExitCode.BadData]);
            (code == 0 ? ref read : ref refused)++;
        }

        Assert.True(read > 0 && refused > 0, $"the fuzzer should produce both readable and broken files ({read} read, {refused} refused)");
    }

    /// <summary>inspect reads headers only, by its own paths through each format: every file, any damage.</summary>
    [Fact]
    public void Inspect_of_mutated_files_reports_or_fails_as_bad_data()
    {
        string safetensors = _dir.File("valid.safetensors");
        SafetensorsFormat.Write(safetensors, [("logits", DType.Float32, [3, 4], new byte[48]), ("targets", DType.Int64, [3], new byte[24])]);
        string npy = _dir.File("valid.npy");
        NpyFormat.Write(npy, new float[12].AsSpan(), [3, 4]);
        string kld = _dir.File("valid.kld");
        KldFormat.Write(kld, 4, 5, [1, 2, 3, 4], (c, t, row) => row.Fill(t));
        string[] valid = [npy, safetensors, kld, TorchFormatTests.Fixture("dict.pt"), TorchFormatTests.Fixture("custom.pt")];
        int reported = 0, refused = 0;
        for (int m = 0; m < 2000; m++)
        {
            var rng = new Random(8000 + m);
            string source = valid[m % valid.Length], path = _dir.File("fuzz" + Path.GetExtension(source));
            File.WriteAllBytes(path, Fuzz.Mutate(File.ReadAllBytes(source), rng));
            var (code, stdout, stderr) = CliRunner.Run("inspect", path, "--json");
            Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"mutation {m} (seed {8000 + m}) of {Path.GetFileName(source)}", [ExitCode.BadData]);
            (code == 0 ? ref reported : ref refused)++;
        }

        Assert.True(reported > 0 && refused > 0, $"the fuzzer should produce both readable and broken files ({reported} inspected, {refused} refused)");
    }

    /// <summary>Replaces, removes or retypes one value somewhere in the JSON tree.</summary>
    private static string MutateJson(string json, Random rng)
    {
        var root = JsonNode.Parse(json)!;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[rng.Next(1, nodes.Count)];
        var parent = target.Parent!;
        JsonNode? replacement = rng.Next(14) switch
        {
            0 => -1,
            1 => 0,
            2 => 1e300,
            3 => long.MaxValue,
            4 => 2.5,
            5 => "x",
            6 => null,
            7 => true,
            8 => new JsonArray(),
            9 => new JsonObject(),
            10 => "NaN",
            11 => "-1",
            12 => target is JsonValue v && v.TryGetValue(out long l) ? l + (rng.Next(2) * 2) - 1 : "0x1p3",
            _ => (JsonNode?)"remove",
        };
        if (replacement is JsonValue s && s.TryGetValue(out string? text) && text == "remove")
        {
            if (parent is JsonObject po)
            {
                po.Remove(target.GetPropertyName());
            }
            else
            {
                ((JsonArray)parent).Remove(target);
            }
        }
        else if (parent is JsonObject po)
        {
            po[target.GetPropertyName()] = replacement;
        }
        else
        {
            var array = (JsonArray)parent;
            array[target.GetElementIndex()] = replacement;
        }

        return root.ToJsonString();
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(kv => kv.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is not null)
            {
                Collect(child, into);
            }
        }
    }
}
