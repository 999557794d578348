using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary><see cref="LoglikelihoodPartial"/> in the library: what it saves it reads back, any order merges, and what cannot be one run's is refused.</summary>
public sealed class LoglikelihoodPartialTests
{
    private static readonly Dictionary<string, string> Identity = new() { ["task"] = "t", ["context"] = "16", ["compared"] = "harness" };

    private static readonly Dictionary<string, string> Paths = new() { ["model"] = "m.onnx" };

    private static List<ScoredDocument> Documents(int count, int seed, bool labelled = false)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(d =>
        {
            int choices = 2 + (d % 3);
            var requests = Enumerable.Range(0, choices).Select(_ => new RequestScore(-random.NextDouble() * 30, random.Next(2) == 0, random.Next(1, 9), random.Next(0, 50), random.Next(4) == 0)).ToList();
            var other = requests.Select(r => (r.LogLikelihood + (random.NextDouble() * 1e-3), r.IsGreedy)).ToList();
            var document = new MultipleChoiceDocument($"doc {d}", "", [.. Enumerable.Range(0, choices).Select(c => new string('x', c + 1) + "é\U0001F600")], random.Next(choices))
            {
                Labels = labelled ? [.. Enumerable.Range(0, choices).Select(_ => random.Next(2) == 0)] : null,
            };
            return new ScoredDocument($"doc {d}", requests, document, other);
        })];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Saved_partials_read_back_and_merge_in_any_order(bool labelled)
    {
        using var dir = new TempDir();
        var documents = Documents(11, Environment.TickCount, labelled);
        documents[4] = documents[4] with { Requests = [new RequestScore(double.NegativeInfinity, false, 3, 7, false), .. documents[4].Requests.Skip(1)], Other = [(double.NegativeInfinity, false), .. documents[4].Other!.Skip(1)] };
        var paths = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var (first, count) = new Shard(i, 3).Range(documents.Count);
            string path = dir.File($"part-{i}.json");
            new LoglikelihoodPartial(new Shard(i, 3), documents.Count, (int)first, documents.GetRange((int)first, (int)count), Identity, Paths).Save(path);
            paths.Add(path);
        }

        var merged = LoglikelihoodPartial.Merge(paths.AsEnumerable().Reverse().Select(LoglikelihoodPartial.Load));
        Assert.Equal(3, merged.Parts);
        Assert.Equal(Shard.All, merged.Shard);
        Assert.Equal(documents.Count, merged.Scored.Count);
        for (int d = 0; d < documents.Count; d++)
        {
            Assert.Equal(documents[d].Name, merged.Scored[d].Name);
            Assert.Equal(documents[d].Requests, merged.Scored[d].Requests);
            Assert.Equal(documents[d].Other, merged.Scored[d].Other);
            Assert.Equal(documents[d].Choices?.Choices, merged.Scored[d].Choices?.Choices);
            Assert.Equal(documents[d].Choices?.Gold, merged.Scored[d].Choices?.Gold);
            Assert.Equal(documents[d].Choices?.Labels, merged.Scored[d].Choices?.Labels);
        }

        Assert.Equal(Identity.OrderBy(kv => kv.Key, StringComparer.Ordinal), merged.Identity);
        var again = Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Merge([merged]));
        Assert.Contains("already merges 3 shards", again.Message);
    }

    [Fact]
    public void Any_value_of_a_partial_replaced_reads_or_is_refused_naming_the_file()
    {
        // Every value of a saved partial, in turn, replaced by each of these: the loader takes it or refuses the file in one line, never another exception.
        using var dir = new TempDir();
        string path = dir.File("p.json"), bad = dir.File("bad.json");
        new LoglikelihoodPartial(new Shard(1, 2), 6, 3, Documents(3, Environment.TickCount), Identity, Paths).Save(path);
        JsonNode?[] replacements = [null, "x", -1, 2147483648L, 1.5, true, new JsonArray(), new JsonObject(), new JsonArray(1, 2, 3, 4, 5)];
        int refused = 0, read = 0;
        foreach (string pointer in Pointers(JsonNode.Parse(File.ReadAllText(path))!, ""))
        {
            foreach (var replacement in replacements)
            {
                var root = JsonNode.Parse(File.ReadAllText(path))!;
                Replace(root, pointer, replacement?.DeepClone());
                File.WriteAllText(bad, root.ToJsonString());
                try
                {
                    LoglikelihoodPartial.Load(bad);
                    read++;
                }
                catch (InvalidFileException e)
                {
                    Assert.Equal(bad, e.Path);
                    Assert.DoesNotContain('\n', e.Message);
                    refused++;
                }
            }
        }

        Assert.True(refused > 100 && read > 10, $"{refused} refused, {read} read");
    }

    private static IEnumerable<string> Pointers(JsonNode node, string at) => node switch
    {
        JsonObject o => o.SelectMany(kv => (IEnumerable<string>)[$"{at}/{kv.Key}", .. kv.Value is null ? [] : Pointers(kv.Value, $"{at}/{kv.Key}")]),
        JsonArray a => a.SelectMany((v, i) => (IEnumerable<string>)[$"{at}/{i}", .. v is null ? [] : Pointers(v, $"{at}/{i}")]),
        _ => [],
    };

    private static void Replace(JsonNode root, string pointer, JsonNode? value)
    {
        var parts = pointer.Split('/')[1..];
        var parent = parts[..^1].Aggregate(root, (node, part) => node is JsonArray a ? a[int.Parse(part, System.Globalization.CultureInfo.InvariantCulture)]! : node[part]!);
        if (parent is JsonArray array)
        {
            array[int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture)] = value;
        }
        else
        {
            parent[parts[^1]] = value;
        }
    }

    [Fact]
    public void Bad_partials_are_refused_naming_the_file()
    {
        using var dir = new TempDir();
        string path = dir.File("p.json");
        File.WriteAllText(path, """{"gpuinfo_partial": 1, "kind": "loglikelihood", "shard": "0/1", "documents": 1, "first_document": 0, "identity": {}, "paths": {}, "scored": [{"name": "a", "requests": [[-1.5, true, 2]]}]}""");
        var e = Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("a request's score is 5 values, not 3", e.Message);

        File.WriteAllText(path, """{"gpuinfo_partial": 3, "kind": "loglikelihood"}""");
        Assert.Contains("format version 3, which this gpuinfo does not read (it reads 1 to 2)", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, """{"gpuinfo_partial": 2, "kind": "loglikelihood", "shard": "0/1", "documents": 1, "first_document": 0, "identity": {}, "paths": {}, "scored": [{"name": "a", "requests": [[-1.5, true, 2, 3, false], [-2, false, 1, 3, false]], "choices": ["x", "y"], "gold": 0, "labels": [1, 2]}]}""");
        Assert.Contains("a label is 2, not 0 or 1", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, """{"gpuinfo_partial": 2, "kind": "loglikelihood", "shard": "0/1", "documents": 1, "first_document": 0, "identity": {}, "paths": {}, "scored": [{"name": "a", "requests": [[-1.5, true, 2, 3, false], [-2, false, 1, 3, false]], "choices": ["x", "y"], "gold": 0, "labels": [1]}]}""");
        Assert.Contains("1 labels of true choices for 2 choices", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, """{"gpuinfo_partial": 2, "kind": "loglikelihood", "shard": "0/1", "documents": 1, "first_document": 0, "identity": {}, "paths": {"file 0": "a", "file 1": "b"}, "scored": [{"name": "a", "requests": [[-1.5, true, 2, 3, false]], "file": 2}]}""");
        Assert.Contains("a: file 2, not one of the 2 the paths name", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, """{"gpuinfo_partial": 1, "kind": "loglikelihood", "shard": "2/2", "documents": 1, "first_document": 0, "identity": {}, "paths": {}, "scored": []}""");
        Assert.Contains("\"shard\" is \"2/2\", not i/n", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, """{"gpuinfo_partial": 8, "kind": "eval"}""");
        Assert.Contains("a partial of kind 'eval' cannot be merged with loglikelihood partials", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);
        File.WriteAllText(path, "[1, 2");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidFileException>(() => LoglikelihoodPartial.Load(path)).Message);

        var documents = Documents(2, 5);
        Assert.Throws<ArgumentException>(() => new LoglikelihoodPartial(Shard.All, 1, 0, documents, Identity, Paths));
        Assert.Throws<ArgumentException>(() => new LoglikelihoodPartial(Shard.All, 2, 0, [documents[0] with { Requests = [] }], Identity, Paths));
        Assert.Contains("mix", Assert.Throws<ArgumentException>(() => new LoglikelihoodPartial(Shard.All, 2, 0, [documents[0], documents[1] with { Other = null }], Identity, Paths)).Message);
    }
}
