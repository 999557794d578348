using GpuInfo.Corpus;

namespace GpuInfo.Tests.Measures;

/// <summary>Target ranks and top-k accuracy: counted against a plain loop over the same values, on every dtype, and merged across shards.</summary>
public sealed class TargetRankTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Ranks_count_the_strictly_larger_entries(ScalarType type)
    {
        var data = new Reference.TestData();
        const int rows = 37, vocab = 5003;
        var x = data.Logits(rows, vocab);
        var y = data.Targets(rows, vocab, 0.1);
        x[(3 * vocab) + 17] = float.NegativeInfinity;
        y[3] = 17;
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var ranks = new int[rows];
        var values = Ranks(engine, x, vocab, type, y, ranks);
        for (int i = 0; i < rows; i++)
        {
            int expected = y[i] == -100 ? -1 : values.AsSpan(i * vocab, vocab).ToArray().Count(v => v > values[(i * vocab) + y[i]]);
            Assert.True(expected == ranks[i], $"row {i}: rank {ranks[i]}, expected {expected} ({type}, seed {data.Seed})");
        }
    }

    [Fact]
    public void Top_k_accuracy_of_a_corpus_run_merges_across_shards()
    {
        var data = new Reference.TestData();
        const int rows = 90, vocab = 701;
        var x = data.Logits(rows, vocab, 1.0);
        var y = data.Targets(rows, vocab, 0.1).Select(v => (long)v).ToArray();
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var source = MemoryRowSource.Float32(x, vocab, y);
        int[] ks = [1, 5, 50];
        var one = CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { TopK = ks }).Evaluation!;
        var merged = CorpusPartial.Merge(Enumerable.Range(0, 3).Select(i =>
            CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { TopK = ks, Shard = new Shard(i, 3), ChunkBytes = 4 * vocab * 4 }))).Evaluation!;
        foreach (int k in ks)
        {
            long expected = Enumerable.Range(0, rows).Count(i => y[i] != -100 && x.AsSpan(i * vocab, vocab).ToArray().Count(v => v > x[(i * vocab) + (int)y[i]]) < k);
            Assert.Equal(expected, one.TopKHits[k]);
            Assert.Equal(expected, merged.TopKHits[k]);
        }

        Assert.Equal(one.Top1Hits, one.TopKHits[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { TopK = [0] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { TopK = [5, 5] }));
        var other = CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { TopK = [1, 5], Shard = new Shard(0, 2) });
        var plain = CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { Shard = new Shard(1, 2) });
        Assert.Throws<GpuInfo.Formats.InvalidFileException>(() => CorpusPartial.Merge([other, plain]));
    }

    [Fact]
    public void Top_k_agreement_matches_sorted_index_sets_and_merges()
    {
        var data = new Reference.TestData();
        const int rows = 60, vocab = 1201;
        var x = data.Logits(rows, vocab, 1.0);
        var q = data.Perturbed(x, 0.3);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        foreach (int k in new[] { 1, 7, 40 })
        {
            var overlap = new float[rows];
            var topOne = new bool[rows];
            engine.TopKAgreement(Logits.Float32(x, vocab), Logits.Float32(q, vocab), k, overlap, topOne);
            for (int i = 0; i < rows; i++)
            {
                var a = Top(x.AsSpan(i * vocab, vocab).ToArray(), k);
                var b = Top(q.AsSpan(i * vocab, vocab).ToArray(), k);
                Assert.Equal((float)a.Intersect(b).Count() / k, overlap[i]);
                Assert.Equal(b.Contains(a[0]), topOne[i]);
            }
        }

        var source = MemoryRowSource.Float32(x, vocab);
        var test = MemoryRowSource.Float32(q, vocab);
        var one = CorpusRun.Compare(engine, source, test, run: new CorpusRunOptions { TopK = [1, 7] }).Comparison!;
        Assert.Equal(one.SameTop1Fraction, one.TopKOverlap(1).Mean, 12);
        var merged = CorpusPartial.Merge(Enumerable.Range(0, 4).Select(i =>
            CorpusRun.Compare(engine, source, test, run: new CorpusRunOptions { TopK = [1, 7], Shard = new Shard(i, 4) }))).Comparison!;
        Assert.Equal(one.TopKOverlap(7), merged.TopKOverlap(7));
        Assert.Equal(one.TopOneInTopK(7), merged.TopOneInTopK(7));
    }

    /// <summary>The k largest entries' indices, largest first, ties to the lower index.</summary>
    private static int[] Top(float[] row, int k) =>
        [.. Enumerable.Range(0, row.Length).OrderByDescending(j => row[j]).ThenBy(j => j).Take(k)];

    /// <summary>Ranks of the logits stored as <paramref name="type"/>; returns the float values that type holds.</summary>
    private static float[] Ranks(InfoEngine engine, float[] x, int vocab, ScalarType type, int[] y, int[] ranks)
    {
        switch (type)
        {
            case ScalarType.Float16:
                var h = x.Select(v => (Half)v).ToArray();
                engine.TargetRanks(Logits.Float16(h, vocab), y, ranks);
                return [.. h.Select(v => (float)v)];
            case ScalarType.BFloat16:
                var b = x.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
                engine.TargetRanks(Logits.BFloat16(b, vocab), y, ranks);
                return [.. b.Select(v => BitConverter.UInt32BitsToSingle((uint)v << 16))];
            default:
                engine.TargetRanks(Logits.Float32(x, vocab), y, ranks);
                return x;
        }
    }
}
