using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Measures;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// One SIMD CPU engine for a test class, on a fixed number of threads: the CPU path slices the
/// vocabulary when a call has fewer rows than 4 × threads, so fixing the threads makes the rows
/// per chunk that trigger slicing the same on every machine.
/// </summary>
public sealed class CorpusEngineFixture : IDisposable
{
    public InfoEngine Engine { get; } = new(new InfoEngineOptions { Device = "cpu", MaxDegreeOfParallelism = 2 });

    public void Dispose() => Engine.Dispose();
}

/// <summary>Shared data, one-call references and bit-for-bit comparisons of corpus totals.</summary>
internal static class CorpusCheck
{
    public static long[] Targets(TestData data, int rows, int vocab, double ignored, long ignoreIndex = -100)
    {
        var t = new long[rows];
        for (int i = 0; i < rows; i++)
        {
            t[i] = data.Rng.NextDouble() < ignored ? ignoreIndex : data.Rng.Next(vocab);
        }

        return t;
    }

    /// <summary>bf16 payloads of float32 values (round to nearest even on the dropped half).</summary>
    public static ushort[] BFloat16(float[] x)
    {
        var bits = new ushort[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            uint u = BitConverter.SingleToUInt32Bits(x[i]);
            u += 0x7FFF + ((u >> 16) & 1);
            bits[i] = (ushort)(u >> 16);
        }

        return bits;
    }

    public static Half[] Float16(float[] x) => [.. x.Select(v => (Half)v)];

    /// <summary>What the corpus run must equal: one engine call over every row.</summary>
    public static PerplexityAccumulator OneCall(InfoEngine engine, float[] x, int vocab, long[] y, CrossEntropyOptions? options = null)
    {
        var totals = new PerplexityAccumulator();
        engine.Evaluate(Logits.Float32(x, vocab), y, totals, options);
        return totals;
    }

    public static ComparisonAccumulator OneCompare(InfoEngine engine, float[] p, float[] q, int vocab, long[]? y, float temperature = 1f, long ignoreIndex = -100)
    {
        var totals = new ComparisonAccumulator();
        engine.Compare(Logits.Float32(p, vocab), Logits.Float32(q, vocab), totals, y is null ? default : new Targets(y), temperature, ignoreIndex);
        return totals;
    }

    /// <param name="calibration">Compare the calibration bins too (false for totals read from a partial that has none).</param>
    public static void Same(PerplexityAccumulator expected, PerplexityAccumulator? actual, string what, bool calibration = true)
    {
        Assert.NotNull(actual);
        Assert.True(expected.Tokens == actual.Tokens, $"{what}: tokens {actual.Tokens}, expected {expected.Tokens}");
        Assert.True(expected.Ignored == actual.Ignored, $"{what}: ignored {actual.Ignored}, expected {expected.Ignored}");
        Assert.True(expected.Top1Hits == actual.Top1Hits, $"{what}: top-1 hits {actual.Top1Hits}, expected {expected.Top1Hits}");
        Bitwise(expected.NllSum, actual.NllSum, $"{what}: NllSum");
        Bitwise(expected.NllSquaredSum, actual.NllSquaredSum, $"{what}: NllSquaredSum");
        Bitwise(expected.WeightSum, actual.WeightSum, $"{what}: WeightSum");
        Bitwise(expected.EntropySum, actual.EntropySum, $"{what}: EntropySum");
        Bitwise(expected.EntropySquaredSum, actual.EntropySquaredSum, $"{what}: EntropySquaredSum");
        Assert.Equal(Texts(expected.ExactSums), Texts(actual.ExactSums));
        if (!calibration)
        {
            return;
        }

        Assert.Equal(expected.Calibration is null, actual.Calibration is null);
        SameBins(expected.Calibration, actual.Calibration);
    }

    private static void SameBins(CalibrationBins? expected, CalibrationBins? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is not null && actual is not null)
        {
            Assert.Equal(expected.BinTokens, actual.BinTokens);
            Assert.Equal(expected.BinCorrect, actual.BinCorrect);
            Assert.Equal(expected.BinConfidenceSums, actual.BinConfidenceSums);
        }
    }

    public static void Same(ComparisonAccumulator expected, ComparisonAccumulator? actual, string what, bool values = true)
    {
        Assert.NotNull(actual);
        Assert.True(expected.Tokens == actual.Tokens, $"{what}: tokens {actual.Tokens}, expected {expected.Tokens}");
        Assert.True(expected.SameTop1 == actual.SameTop1, $"{what}: same top-1 {actual.SameTop1}, expected {expected.SameTop1}");
        Assert.Equal(expected.HasTargets, actual.HasTargets);
        Bitwise(expected.KlSum, actual.KlSum, $"{what}: KlSum");
        Bitwise(expected.KlSquaredSum, actual.KlSquaredSum, $"{what}: KlSquaredSum");
        Assert.Equal(expected.HasReverseKl, actual.HasReverseKl);
        Bitwise(expected.ReverseKlSum, actual.ReverseKlSum, $"{what}: ReverseKlSum");
        Bitwise(expected.JsSum, actual.JsSum, $"{what}: JsSum");
        Bitwise(expected.NllSumBase, actual.NllSumBase, $"{what}: NllSumBase");
        Bitwise(expected.NllSumTest, actual.NllSumTest, $"{what}: NllSumTest");
        Bitwise(expected.NllCrossSum, actual.NllCrossSum, $"{what}: NllCrossSum");
        Bitwise(expected.DeltaPSum, actual.DeltaPSum, $"{what}: DeltaPSum");
        Assert.Equal(Texts(expected.ExactSums), Texts(actual.ExactSums));
        if (expected.HasTargets)
        {
            SameBins(expected.CalibrationBase, actual.CalibrationBase);
            SameBins(expected.CalibrationTest, actual.CalibrationTest);
        }

        Assert.Equal(expected.KlSketch.Count, actual.KlSketch.Count);
        foreach (double q in new[] { 0, 1, 10, 50, 90, 99, 100 })
        {
            Bitwise(expected.KlSketch.Percentile(q), actual.KlSketch.Percentile(q), $"{what}: KL sketch p{q}");
        }

        if (values)
        {
            Assert.Equal(expected.KlValues, actual.KlValues);
        }
    }

    public static void Bitwise(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual),
            $"{what}: {actual:R} differs from the one-call {expected:R} (bits must be equal: the sums are exact)");

    public static List<string> Texts(IEnumerable<(string Name, ExactSum Sum)> sums) => [.. sums.Select(s => $"{s.Name}={s.Sum.ToExactString()}")];

    /// <summary>Chunk sizes: 1 byte (one row a chunk), 3 rows' worth plus a little (odd chunks, a short last one), and the engine's choice (null).</summary>
    public static long? ChunkBytes(int mode, long rowBytes) => mode switch
    {
        1 => 1,
        3 => (3 * rowBytes) + 7,
        _ => null,
    };

    public static void Shuffle<T>(Random rng, IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}

/// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, which posts.</summary>
internal sealed class SyncProgress(Action<CorpusProgress> report) : IProgress<CorpusProgress>
{
    public void Report(CorpusProgress value) => report(value);
}

/// <summary>A source written against the public extension point: fills the block's buffer (or hands out its memory), and can fail on request.</summary>
internal sealed class ScriptedSource(float[] values, int vocab, long[] targets, string name, Func<long, Exception?>? fail = null, bool copy = true, bool readAhead = true) : RowSource
{
    public override long Rows => values.Length / vocab;

    public override bool ReadAhead => readAhead;

    /// <summary>The managed thread ids <see cref="Read"/> ran on.</summary>
    public HashSet<int> ReadThreads { get; } = [];

    public override int Vocab => vocab;

    public override ScalarType Type => ScalarType.Float32;

    public override bool HasTargets => true;

    public override string Name => name;

    public override SourceDescription Describe() =>
        new("scripted", Rows, Vocab, Type, Values, [], new SortedDictionary<string, string>(StringComparer.Ordinal) { ["name"] = name });

    protected internal override void Read(RowBlock block)
    {
        ReadThreads.Add(Environment.CurrentManagedThreadId);
        if (fail?.Invoke(block.FirstRow) is { } e)
        {
            throw e;
        }

        var slice = values.AsMemory(checked((int)(block.FirstRow * vocab)), block.Rows * vocab);
        if (copy)
        {
            MemoryMarshal.AsBytes(slice.Span).CopyTo(block.Buffer);
        }
        else
        {
            block.UseMemory(slice);
        }

        targets.AsSpan((int)block.FirstRow, block.Rows).CopyTo(block.Targets);
    }
}

public sealed class CorpusRunTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private readonly InfoEngine _engine = fixture.Engine;

    /// <summary>
    /// Without a chunk size, a run reads what its engine asks for: on the SIMD path 4 MiB per thread
    /// per source (8 to 64 MiB), so that a chunk read just before it is measured is still cached; on
    /// an accelerator 64 MiB per source.
    /// </summary>
    [Theory]
    [InlineData("cpu", 1, 8)]
    [InlineData("cpu", 2, 8)]
    [InlineData("cpu", 5, 20)]
    [InlineData("cpu", 64, 64)]
    [InlineData("ilgpu-cpu", 2, 64)]
    public void The_default_chunk_is_the_engines_choice(string device, int threads, int mib)
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device, MaxDegreeOfParallelism = threads });
        Assert.Equal((long)mib << 20, engine.CorpusChunkBytesPerSource);
        if (device != "cpu" || threads != 2)
        {
            return;
        }

        const int vocab = 16384, rows = 300; // 64 KiB a row: 128 rows in 8 MiB
        var data = new TestData();
        var x = data.Logits(rows, vocab, 1.0);
        var chunks = new List<int>();
        CorpusRun.Compare(engine, MemoryRowSource.Float32(x, vocab), MemoryRowSource.Float32(x, vocab),
            run: new CorpusRunOptions { PerRow = (first, values) => chunks.Add(values.Length) });
        Assert.Equal([128, 128, 44], chunks); // two sources: 16 MiB a chunk, 8 MiB of each
    }

    public static TheoryData<int, int> ChunksAndOptions => new()
    {
        { 1, 0 }, { 3, 0 }, { 0, 0 },
        { 1, 1 }, { 3, 1 }, { 0, 1 },
        { 1, 2 }, { 3, 2 }, { 0, 2 },
    };

    private static CrossEntropyOptions OptionSet(int set, TestData data, int vocab) => set switch
    {
        1 => new CrossEntropyOptions { LabelSmoothing = 0.1f, Temperature = 1.7f, ZLoss = 1e-4f },
        2 => new CrossEntropyOptions { ClassWeights = data.Weights(vocab), IgnoreIndex = 5 },
        _ => new CrossEntropyOptions(),
    };

    [Theory]
    [MemberData(nameof(ChunksAndOptions))]
    public void Evaluate_over_memory_equals_one_engine_call(int chunkMode, int optionSet)
    {
        const int rows = 41, vocab = 523;
        var data = new TestData(100 + optionSet);
        var x = data.Logits(rows, vocab);
        var o = OptionSet(optionSet, data, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.15, o.IgnoreIndex);
        y[3] = o.IgnoreIndex;
        if (optionSet == 2)
        {
            y[4] = 7; // a class that is not the (in-range) ignore index 5
        }

        var expected = CorpusCheck.OneCall(_engine, x, vocab, y, o);
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        var partial = CorpusRun.Evaluate(_engine, source, o, new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, source.RowBytes) });

        CorpusCheck.Same(expected, partial.Evaluation, $"chunks {chunkMode}, options {optionSet}, {data}");
        Assert.Equal(CorpusMeasure.Evaluation, partial.Measure);
        Assert.Null(partial.Comparison);
        Assert.Equal(Shard.All, partial.Shard);
        Assert.Equal(0, partial.FirstRow);
        Assert.Equal(rows, partial.RowCount);
        Assert.Equal(1, partial.Parts);
        Assert.Null(partial.Origin);
        Assert.Equal(0, partial.RowsWithoutTarget);
        long ignored = y.Count(t => t == o.IgnoreIndex);
        Assert.Equal(ignored, partial.IgnoredTargets);
        Assert.Equal(rows - ignored, partial.Evaluation!.Tokens);

        // And independently of the engine: float64 definitions of every scored row.
        double nll = 0, entropy = 0, weight = 0;
        long hits = 0;
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == o.IgnoreIndex)
            {
                continue;
            }

            var z = Reference64.Scaled(x.AsSpan(r * vocab, vocab), o.Temperature);
            nll += Reference64.CrossEntropy(z, (int)y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss);
            entropy += Reference64.Entropy(z);
            weight += o.ClassWeights is { } w ? w[y[r]] : 1;
            hits += Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) == y[r] ? 1 : 0;
        }

        Tolerance.Close(nll, partial.Evaluation.NllSum, 1e-5, 1e-4, $"NllSum {data}");
        Tolerance.Close(entropy, partial.Evaluation.EntropySum, 1e-5, 1e-4, $"EntropySum {data}");
        Assert.Equal(weight, partial.Evaluation.WeightSum); // floats in [0.25, 2.25]: their float64 sum is exact
        Assert.Equal(hits, partial.Evaluation.Top1Hits);
        Assert.Equal(o.Temperature.ToString("R", System.Globalization.CultureInfo.InvariantCulture), partial.Options["temperature"]);
        Assert.Equal(o.IgnoreIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), partial.Options["ignore_index"]);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void Evaluate_over_npy_files_equals_one_engine_call(int chunkMode, bool int32Targets)
    {
        const int rows = 41, vocab = 1001;
        var data = new TestData(7);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        using var dir = new TempDir();
        string logits = dir.File("logits.npy"), targets = dir.File("targets.npy");
        NpyFormat.Write<float>(logits, x, [rows, vocab]);
        if (int32Targets)
        {
            NpyFormat.Write<int>(targets, [.. y.Select(t => (int)t)], [rows]);
        }
        else
        {
            NpyFormat.Write<long>(targets, y, [rows]);
        }

        var o = new CrossEntropyOptions { LabelSmoothing = 0.05f, Temperature = 0.8f };
        var expected = CorpusCheck.OneCall(_engine, x, vocab, y, o);
        using var source = FileRowSource.Open(logits, targets);
        Assert.Equal(rows, source.Rows);
        Assert.Equal(vocab, source.Vocab);
        Assert.Equal(ScalarType.Float32, source.Type);
        var partial = CorpusRun.Evaluate(_engine, source, o, new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, source.RowBytes) });
        CorpusCheck.Same(expected, partial.Evaluation, $"npy, chunks {chunkMode}");
        Assert.Equal(y.Count(t => t == -100), partial.IgnoredTargets);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(0)]
    public void Half_and_bfloat16_sources_equal_one_engine_call(int chunkMode)
    {
        const int rows = 29, vocab = 523;
        var data = new TestData(8);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var half = CorpusCheck.Float16(x);
        var bf16 = CorpusCheck.BFloat16(x);
        var o = new CrossEntropyOptions { LabelSmoothing = 0.1f };

        var expectedHalf = new PerplexityAccumulator();
        _engine.Evaluate(Logits.Float16(half, vocab), y, expectedHalf, o);
        var expectedBf16 = new PerplexityAccumulator();
        _engine.Evaluate(Logits.BFloat16(bf16, vocab), y, expectedBf16, o);
        Assert.NotEqual(expectedHalf.NllSum, expectedBf16.NllSum); // the two element types really differ

        using var halfSource = MemoryRowSource.Float16(half, vocab, y, "fp16");
        using var bf16Source = MemoryRowSource.BFloat16(bf16, vocab, y, "bf16");
        Assert.Equal(ScalarType.Float16, halfSource.Type);
        Assert.Equal(ScalarType.BFloat16, bf16Source.Type);
        Assert.Equal(2L * vocab, halfSource.RowBytes);
        var halfRun = CorpusRun.Evaluate(_engine, halfSource, o, new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, halfSource.RowBytes) });
        var bf16Run = CorpusRun.Evaluate(_engine, bf16Source, o, new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, bf16Source.RowBytes) });
        CorpusCheck.Same(expectedHalf, halfRun.Evaluation, $"fp16 memory, chunks {chunkMode}");
        CorpusCheck.Same(expectedBf16, bf16Run.Evaluation, $"bf16 memory, chunks {chunkMode}");
        Assert.Equal(ScalarType.Float16, halfRun.Sources[0].Type);
        Assert.Equal(ScalarType.BFloat16, bf16Run.Sources[0].Type);

        // An fp16 .npy file is read as stored.
        using var dir = new TempDir();
        NpyFormat.Write<Half>(dir.File("h.npy"), half, [rows, vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), y, [rows]);
        using var file = FileRowSource.Open(dir.File("h.npy"), dir.File("y.npy"));
        Assert.Equal(ScalarType.Float16, file.Type);
        var fileRun = CorpusRun.Evaluate(_engine, file, o, new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, file.RowBytes) });
        CorpusCheck.Same(expectedHalf, fileRun.Evaluation, $"fp16 npy, chunks {chunkMode}");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(0, false)]
    public void Compare_equals_one_engine_call(int chunkMode, bool withTargets)
    {
        const int rows = 37, vocab = 1001;
        const float temperature = 1.3f;
        var data = new TestData(9);
        var p = data.Logits(rows, vocab);
        var q = data.Perturbed(p, 0.3);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var expected = CorpusCheck.OneCompare(_engine, p, q, vocab, withTargets ? y : null, temperature);

        using var baseSource = MemoryRowSource.Float32(p, vocab, withTargets ? y : (ReadOnlyMemory<long>?)null, "base");
        using var testSource = MemoryRowSource.Float32(q, vocab, null, "test");
        var partial = CorpusRun.Compare(_engine, baseSource, testSource, temperature, -100,
            new CorpusRunOptions { ChunkBytes = CorpusCheck.ChunkBytes(chunkMode, baseSource.RowBytes + testSource.RowBytes) });

        CorpusCheck.Same(expected, partial.Comparison, $"compare, chunks {chunkMode}, targets {withTargets}");
        Assert.Equal(CorpusMeasure.Comparison, partial.Measure);
        Assert.Null(partial.Evaluation);
        Assert.Equal(2, partial.Sources.Count);
        Assert.Equal(withTargets ? rows - y.Count(t => t == -100) : rows, partial.Comparison!.Tokens);
        Assert.Equal(withTargets, partial.Comparison.HasTargets);

        // Independently: KL(base || test) of the float64 definitions.
        double kl = 0;
        for (int r = 0; r < rows; r++)
        {
            if (withTargets && y[r] == -100)
            {
                continue;
            }

            kl += Reference64.Kl(Reference64.Scaled(p.AsSpan(r * vocab, vocab), temperature), Reference64.Scaled(q.AsSpan(r * vocab, vocab), temperature));
        }

        Tolerance.Close(kl, partial.Comparison.KlSum, 1e-4, 1e-5, $"KlSum {data}");
    }

    [Fact]
    public void Compare_of_mixed_element_types_equals_one_engine_call()
    {
        const int rows = 23, vocab = 523;
        var data = new TestData(10);
        var p = data.Logits(rows, vocab);
        var q = data.Perturbed(p, 0.2);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.1);
        var pb = CorpusCheck.BFloat16(p);
        var qh = CorpusCheck.Float16(q);
        var expected = new ComparisonAccumulator();
        _engine.Compare(Logits.BFloat16(pb, vocab), Logits.Float16(qh, vocab), expected, y);
        using var baseSource = MemoryRowSource.BFloat16(pb, vocab, y, "base");
        using var testSource = MemoryRowSource.Float16(qh, vocab, null, "test");
        var partial = CorpusRun.Compare(_engine, baseSource, testSource, run: new CorpusRunOptions { ChunkBytes = (3 * (baseSource.RowBytes + testSource.RowBytes)) + 1 });
        CorpusCheck.Same(expected, partial.Comparison, "bf16 vs fp16");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Shards_saved_loaded_and_merged_equal_one_run(int n)
    {
        const int rows = 41, vocab = 523;
        var data = new TestData(20 + n);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var o = new CrossEntropyOptions { Temperature = 1.25f, LabelSmoothing = 0.02f };
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("x.npy"), x, [rows, vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), y, [rows]);
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"));
        var whole = CorpusRun.Evaluate(_engine, source, o);
        var expected = CorpusCheck.OneCall(_engine, x, vocab, y, o);
        CorpusCheck.Same(expected, whole.Evaluation, "one run");

        var rng = new Random(n);
        var order = Enumerable.Range(0, n).ToList();
        CorpusCheck.Shuffle(rng, order);
        var paths = new List<string>();
        long covered = 0;
        foreach (int i in order)
        {
            string path = dir.File($"eval-{i}-of-{n}.json");
            var shard = new Shard(i, n);
            var part = CorpusRun.Evaluate(_engine, source, o, new CorpusRunOptions { Shard = shard, ChunkBytes = (2 * source.RowBytes) + 5, PartialPath = path });
            Assert.True(File.Exists(path));
            Assert.Equal(shard, part.Shard);
            long first = (long)rows * i / n, end = (long)rows * (i + 1) / n;
            Assert.Equal(first, part.FirstRow);
            Assert.Equal(end - first, part.RowCount);
            covered += part.RowCount;
            paths.Add(path);
        }

        Assert.Equal(rows, covered);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        CorpusCheck.Shuffle(rng, paths);
        var loaded = paths.Select(CorpusPartial.Load).ToList();
        foreach (var (partial, path) in loaded.Zip(paths))
        {
            Assert.Equal(path, partial.Origin);
        }

        var merged = CorpusPartial.Merge(loaded);
        CorpusCheck.Same(expected, merged.Evaluation, $"{n} shards merged");
        Assert.Equal(Shard.All, merged.Shard);
        Assert.Equal(rows, merged.RowCount);
        Assert.Equal(0, merged.FirstRow);
        Assert.Equal(n, merged.Parts);
        Assert.Equal(whole.RowsWithoutTarget, merged.RowsWithoutTarget);
        Assert.Equal(whole.IgnoredTargets, merged.IgnoredTargets);
        Assert.Equal(y.Count(t => t == -100), merged.IgnoredTargets);
        Assert.Equal(CorpusMeasure.Evaluation, merged.Measure);
        Assert.Equal(whole.Options.OrderBy(kv => kv.Key), merged.Options.OrderBy(kv => kv.Key));
        var description = Assert.Single(merged.Sources);
        Assert.Equal(rows, description.Rows);
        Assert.Equal(vocab, description.Vocab);
        Assert.Equal(source.Describe().Files.Select(f => (f.Role, f.Bytes, f.HeaderSha256)), description.Files.Select(f => (f.Role, f.Bytes, f.HeaderSha256)));

        // A merged partial saves and loads like any other.
        merged.Save(dir.File("merged.json"));
        var reloaded = CorpusPartial.Load(dir.File("merged.json"));
        CorpusCheck.Same(expected, reloaded.Evaluation, "merged, saved and loaded");
        Assert.Equal(n, reloaded.Parts);
    }

    [Fact]
    public void More_shards_than_rows_leave_empty_shards_that_still_merge()
    {
        const int rows = 5, vocab = 37, n = 7;
        var data = new TestData(30);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        using var source = MemoryRowSource.Float32(x, vocab, y, "few");
        var parts = new List<CorpusPartial>();
        for (int i = n - 1; i >= 0; i--)
        {
            parts.Add(CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(i, n), ChunkBytes = 1 }));
        }

        Assert.Equal(rows, parts.Sum(p => p.RowCount));
        Assert.Contains(parts, p => p.RowCount == 0);
        var merged = CorpusPartial.Merge(parts);
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, vocab, y), merged.Evaluation, "7 shards of 5 rows");
        Assert.Equal(n, merged.Parts);
    }

    [Fact]
    public void Compare_shards_merge_to_one_run_with_the_sketch_of_one_run()
    {
        const int rows = 40, vocab = 523, n = 3;
        var data = new TestData(31);
        var p = data.Logits(rows, vocab);
        var q = data.Perturbed(p, 0.4);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.1);
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("p.npy"), p, [rows, vocab]);
        NpyFormat.Write<float>(dir.File("q.npy"), q, [rows, vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), y, [rows]);
        using var baseSource = FileRowSource.Open(dir.File("p.npy"), dir.File("y.npy"));
        using var testSource = FileRowSource.Open(dir.File("q.npy"));
        var whole = CorpusRun.Compare(_engine, baseSource, testSource, 1.5f);
        var expected = CorpusCheck.OneCompare(_engine, p, q, vocab, y, 1.5f);
        CorpusCheck.Same(expected, whole.Comparison, "one compare run");

        var paths = new List<string>();
        foreach (int i in new[] { 2, 0, 1 })
        {
            string path = dir.File($"cmp-{i}.json");
            CorpusRun.Compare(_engine, baseSource, testSource, 1.5f, -100, new CorpusRunOptions { Shard = new Shard(i, n), ChunkBytes = 1, PartialPath = path });
            paths.Add(path);
        }

        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
        CorpusCheck.Same(expected, merged.Comparison, "3 compare shards merged", values: false);
        Assert.Equal(rows, merged.RowCount);
        Assert.Equal(n, merged.Parts);
        Assert.Equal(2, merged.Sources.Count);

        // Loaded partials carry the sketch, not the values: percentiles come from it, within its error.
        Assert.False(merged.Comparison!.HasAllValues);
        var exact = whole.Comparison!.KlPercentiles();
        var sketched = merged.Comparison.KlPercentiles();
        Assert.Equal(exact.Select(e => e.Name), sketched.Select(s => s.Name));
        foreach (var ((name, e), (_, s)) in exact.Zip(sketched))
        {
            Assert.True(Math.Abs(e - s) <= (LogHistogram.RelativeError * 1.001 * Math.Abs(e)) + 1e-12, $"{name}: sketch {s}, exact {e}");
        }
    }

    [Fact]
    public void Shift_scores_each_position_against_the_next_target_and_the_last_against_none()
    {
        const int b = 3, t = 7, vocab = 37;
        var data = new TestData(40);
        var x = data.Logits(b * t, vocab);
        var ids = CorpusCheck.Targets(data, b * t, vocab, 0);
        ids[0 * t] = -100;       // position 0 is never a shifted target: not counted
        ids[(1 * t) + 3] = -100; // target of (1, 2)
        ids[(2 * t) + 6] = -100; // target of (2, 5)
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("x.npy"), x, [b, t, vocab]);
        NpyFormat.Write<long>(dir.File("ids.npy"), ids, [b, t]);

        var shifted = new long[b * t];
        for (int r = 0; r < b * t; r++)
        {
            shifted[r] = r % t == t - 1 ? -100 : ids[r + 1];
        }

        var expected = CorpusCheck.OneCall(_engine, x, vocab, shifted);
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("ids.npy"), new FileRowSourceOptions { Shift = true });
        Assert.Equal(b * t, source.Rows);
        var whole = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = (4 * source.RowBytes) + 3 });
        CorpusCheck.Same(expected, whole.Evaluation, "shift");
        Assert.Equal(b, whole.RowsWithoutTarget);
        Assert.Equal(2, whole.IgnoredTargets);
        Assert.Equal(b + 2, whole.Evaluation!.Ignored);
        Assert.Equal((b * (t - 1)) - 2, whole.Evaluation.Tokens);
        Assert.Equal("true", whole.Sources[0].Settings["shift"]);

        // Shards cut sequences anywhere; one-row chunks put every boundary at a chunk edge.
        var parts = new List<CorpusPartial>();
        foreach (int i in new[] { 3, 1, 0, 2 })
        {
            string path = dir.File($"s{i}.json");
            CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(i, 4), ChunkBytes = 1, PartialPath = path });
            parts.Add(CorpusPartial.Load(path));
        }

        var merged = CorpusPartial.Merge(parts);
        CorpusCheck.Same(expected, merged.Evaluation, "shift, 4 shards");
        Assert.Equal(b, merged.RowsWithoutTarget);
        Assert.Equal(2, merged.IgnoredTargets);

        // A comparison under shift leaves out the positions without a target.
        var q = data.Perturbed(x, 0.1);
        NpyFormat.Write<float>(dir.File("q.npy"), q, [b, t, vocab]);
        using var test = FileRowSource.Open(dir.File("q.npy"));
        var compare = CorpusRun.Compare(_engine, source, test, run: new CorpusRunOptions { ChunkBytes = 1 });
        CorpusCheck.Same(CorpusCheck.OneCompare(_engine, x, q, vocab, shifted), compare.Comparison, "compare under shift");
    }

    [Fact]
    public void Shift_over_one_sequence_of_N_rows_leaves_only_the_last_row_without_target()
    {
        const int rows = 9, vocab = 37;
        var data = new TestData(41);
        var x = data.Logits(rows, vocab);
        var ids = CorpusCheck.Targets(data, rows, vocab, 0);
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("x.npy"), x, [rows, vocab]);
        NpyFormat.Write<long>(dir.File("ids.npy"), ids, [rows]);
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("ids.npy"), new FileRowSourceOptions { Shift = true });
        var shifted = ids.Skip(1).Append(-100).ToArray();
        var partial = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = 2 * source.RowBytes });
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, vocab, shifted), partial.Evaluation, "shift over [N, V]");
        Assert.Equal(1, partial.RowsWithoutTarget);
        Assert.Equal(0, partial.IgnoredTargets);
    }

    [Fact]
    public void Cancelling_from_progress_after_the_first_chunk_throws_and_saves_nothing()
    {
        const int rows = 30, vocab = 37;
        var data = new TestData(50);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.1);
        using var dir = new TempDir();
        using var cts = new CancellationTokenSource();
        var reports = new List<CorpusProgress>();
        var progress = new SyncProgress(r =>
        {
            reports.Add(r);
            cts.Cancel();
        });
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        string path = dir.File("cancelled.json");
        var run = new CorpusRunOptions { ChunkBytes = 1, Progress = progress, PartialPath = path };
        Assert.ThrowsAny<OperationCanceledException>(() => CorpusRun.Evaluate(_engine, source, null, run, cts.Token));
        Assert.Single(reports);
        Assert.Equal(1, reports[0].Rows);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));

        // The same for a comparison.
        using var cts2 = new CancellationTokenSource();
        int calls = 0;
        using var test = MemoryRowSource.Float32(data.Perturbed(x, 0.1), vocab, null, "test");
        var run2 = run with { Progress = new SyncProgress(_ => { calls++; cts2.Cancel(); }) };
        Assert.ThrowsAny<OperationCanceledException>(() => CorpusRun.Compare(_engine, source, test, 1f, -100, run2, cts2.Token));
        Assert.Equal(1, calls);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void A_token_cancelled_before_the_run_throws_before_any_chunk()
    {
        const int rows = 10, vocab = 37;
        var data = new TestData(51);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        using var dir = new TempDir();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        int reports = 0, perRow = 0;
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        var run = new CorpusRunOptions
        {
            ChunkBytes = 1,
            Progress = new SyncProgress(_ => reports++),
            PerRow = (_, _) => perRow++,
            PartialPath = dir.File("p.json"),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => CorpusRun.Evaluate(_engine, source, null, run, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => CorpusRun.Compare(_engine, source, source, 1f, -100, run, cts.Token));
        Assert.Equal(0, reports);
        Assert.Equal(0, perRow);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_custom_source_gives_the_same_totals_as_memory(bool copy)
    {
        const int rows = 17, vocab = 523;
        var data = new TestData(60);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        using var source = new ScriptedSource(x, vocab, y, "scripted", copy: copy);
        var partial = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = (3 * source.RowBytes) + 1 });
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, vocab, y), partial.Evaluation, $"scripted source, copy {copy}");
        Assert.Equal("scripted", partial.Sources[0].Kind);
    }

    [Fact]
    public void A_failing_read_surfaces_as_a_RowSourceException_naming_the_source_and_rows()
    {
        const int rows = 12, vocab = 37;
        var data = new TestData(61);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        IOException? thrown = null;
        using var source = new ScriptedSource(x, vocab, y, "flaky-disk", first => first >= 5 ? thrown = new IOException("the disk went away") : null);
        using var dir = new TempDir();
        var chunks = new List<long>();
        var run = new CorpusRunOptions { ChunkBytes = 2 * source.RowBytes, PerRow = (first, _) => chunks.Add(first), PartialPath = dir.File("p.json") };
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source, null, run));
        Assert.Equal("flaky-disk", e.Source);
        Assert.Contains("flaky-disk", e.Message, StringComparison.Ordinal);
        Assert.Contains("[6, 8)", e.Message, StringComparison.Ordinal);
        Assert.Contains("the disk went away", e.Message, StringComparison.Ordinal);
        Assert.NotNull(thrown);
        Assert.Same(thrown, e.InnerException);
        Assert.Equal(new long[] { 0, 2, 4 }, chunks); // the chunks before the failure were computed, in order
        Assert.False(File.Exists(dir.File("p.json")));

        // In a comparison, the failing source is named even when it is the test source.
        using var good = new ScriptedSource(x, vocab, y, "good");
        var c = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, good, source, run: new CorpusRunOptions { ChunkBytes = 1 }));
        Assert.Equal("flaky-disk", c.Source);
        Assert.Contains("[5, 6)", c.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(c.InnerException);

        // Both sides read in parallel; when both fail, the base is named, whichever failed first.
        using var alsoFlaky = new ScriptedSource(x, vocab, y, "flaky-base", first => first >= 5 ? new IOException("the base disk went away") : null);
        var both = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, alsoFlaky, source, run: new CorpusRunOptions { ChunkBytes = 1 }));
        Assert.Equal("flaky-base", both.Source);
        Assert.Contains("[5, 6)", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_NaN_logit_names_the_source_and_its_global_row()
    {
        const int rows = 20, vocab = 37;
        var data = new TestData(62);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        x[(9 * vocab) + 4] = float.NaN;
        using var source = MemoryRowSource.Float32(x, vocab, y, "nan-rows");
        var run = new CorpusRunOptions { ChunkBytes = 4 * source.RowBytes };
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source, null, run));
        Assert.Equal(9, e.Row);
        Assert.Equal("nan-rows", e.Source);
        Assert.Contains("row 9", e.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", e.Problem, StringComparison.Ordinal);
        Assert.IsType<InvalidInputException>(e.InnerException);

        // Through a shard: the row is still the source's global row.
        var sharded = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source, null, run with { Shard = new Shard(1, 3), ChunkBytes = 1 }));
        Assert.Equal(9, sharded.Row);

        // A comparison names whichever source holds the bad row.
        var clean = data.Logits(rows, vocab);
        using var cleanSource = MemoryRowSource.Float32(clean, vocab, y, "clean");
        var asTest = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, cleanSource, source, run: run));
        Assert.Equal("nan-rows", asTest.Source);
        Assert.Equal(9, asTest.Row);
        var asBase = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, source, cleanSource, run: run));
        Assert.Equal("nan-rows", asBase.Source);
        Assert.Equal(9, asBase.Row);
    }

    [Fact]
    public void A_target_out_of_range_names_the_targets_and_its_global_row()
    {
        const int rows = 20, vocab = 37;
        var data = new TestData(63);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        y[13] = vocab;
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("x.npy"), x, [rows, vocab]);
        NpyFormat.Write<long>(dir.File("y.npy"), y, [rows]);
        using var file = FileRowSource.Open(dir.File("x.npy"), dir.File("y.npy"));
        Assert.Equal(dir.File("y.npy"), file.TargetsName);
        var run = new CorpusRunOptions { ChunkBytes = 4 * file.RowBytes };
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, file, null, run));
        Assert.Equal(13, e.Row);
        Assert.Equal(dir.File("y.npy"), e.Source);
        Assert.Contains(dir.File("y.npy"), e.Message, StringComparison.Ordinal);
        Assert.Contains("row 13", e.Message, StringComparison.Ordinal);

        using var memory = MemoryRowSource.Float32(x, vocab, y, "mem");
        var m = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, memory, null, run));
        Assert.Equal(13, m.Row);
        Assert.Equal("mem", m.Source);

        using var test = MemoryRowSource.Float32(data.Perturbed(x, 0.1), vocab, null, "test");
        var c = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, file, test, run: run));
        Assert.Equal(13, c.Row);
        Assert.Equal(dir.File("y.npy"), c.Source);
    }

    [Fact]
    public void PerRow_values_are_each_rows_loss_and_NaN_where_a_row_has_no_target()
    {
        const int b = 4, t = 6, vocab = 523;
        var data = new TestData(70);
        var x = data.Logits(b * t, vocab);
        var ids = CorpusCheck.Targets(data, b * t, vocab, 0.2);
        using var dir = new TempDir();
        NpyFormat.Write<float>(dir.File("x.npy"), x, [b, t, vocab]);
        NpyFormat.Write<long>(dir.File("ids.npy"), ids, [b, t]);
        var shifted = new long[b * t];
        for (int r = 0; r < b * t; r++)
        {
            shifted[r] = r % t == t - 1 ? -100 : ids[r + 1];
        }

        var o = new CrossEntropyOptions { LabelSmoothing = 0.1f, Reduction = Reduction.None };
        var reference = new float[b * t];
        _engine.CrossEntropy(Logits.Float32(x, vocab), shifted, o, reference);

        var values = new float[b * t];
        long next = 0;
        using var source = FileRowSource.Open(dir.File("x.npy"), dir.File("ids.npy"), new FileRowSourceOptions { Shift = true });
        var run = new CorpusRunOptions
        {
            ChunkBytes = (5 * source.RowBytes) - 1,
            PerRow = (first, v) =>
            {
                Assert.Equal(next, first); // in row order, each row once
                v.CopyTo(values.AsSpan((int)first));
                next = first + v.Length;
            },
        };
        CorpusRun.Evaluate(_engine, source, o, run);
        Assert.Equal(b * t, next);
        for (int r = 0; r < b * t; r++)
        {
            if (r % t == t - 1)
            {
                Assert.True(float.IsNaN(values[r]), $"row {r} has no target: expected NaN, got {values[r]}");
            }
            else if (shifted[r] == -100)
            {
                Assert.Equal(0f, values[r]);
            }
            else
            {
                Assert.False(float.IsNaN(values[r]), $"row {r}");
                Assert.Equal(reference[r], values[r], 1e-6);
            }
        }

        // A comparison reports each row's KL(base || test), ignored rows included.
        var q = data.Perturbed(x, 0.3);
        var kl = new float[b * t];
        _engine.KlDivergence(Logits.Float32(x, vocab), Logits.Float32(q, vocab), kl);
        var got = new float[b * t];
        using var baseSource = MemoryRowSource.Float32(x, vocab, shifted, "base");
        using var testSource = MemoryRowSource.Float32(q, vocab, null, "test");
        CorpusRun.Compare(_engine, baseSource, testSource, run: new CorpusRunOptions { ChunkBytes = 1, PerRow = (first, v) => v.CopyTo(got.AsSpan((int)first)) });
        for (int r = 0; r < b * t; r++)
        {
            Assert.Equal(kl[r], got[r], 1e-6);
        }
    }

    [Fact]
    public void Progress_ends_at_the_shards_totals()
    {
        const int rows = 23, vocab = 37;
        var data = new TestData(80);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        foreach (var shard in new[] { Shard.All, new Shard(1, 3) })
        {
            var reports = new List<CorpusProgress>();
            var run = new CorpusRunOptions { Shard = shard, ChunkBytes = (2 * source.RowBytes) + 1, Progress = new SyncProgress(reports.Add) };
            var partial = CorpusRun.Evaluate(_engine, source, null, run);
            Assert.NotEmpty(reports);
            var last = reports[^1];
            Assert.Equal(partial.RowCount, last.TotalRows);
            Assert.Equal(last.TotalRows, last.Rows);
            Assert.Equal(last.TotalBytes, last.Bytes);
            Assert.Equal(partial.RowCount * source.RowBytes, last.TotalBytes);
            Assert.True(reports.Zip(reports.Skip(1)).All(pair => pair.Second.Rows > pair.First.Rows), "rows done must grow with every report");
            Assert.All(reports, r => Assert.Equal(r.Rows * source.RowBytes, r.Bytes));
        }

        var compareReports = new List<CorpusProgress>();
        using var test = MemoryRowSource.Float32(data.Perturbed(x, 0.1), vocab, null, "test");
        CorpusRun.Compare(_engine, source, test, run: new CorpusRunOptions { ChunkBytes = 1, Progress = new SyncProgress(compareReports.Add) });
        Assert.Equal(rows, compareReports.Count);
        Assert.Equal(rows, compareReports[^1].Rows);
        Assert.Equal(rows * (source.RowBytes + test.RowBytes), compareReports[^1].TotalBytes);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        const int rows = 6, vocab = 37;
        var data = new TestData(81);
        var x = data.Logits(rows, vocab);
        using var noTargets = MemoryRowSource.Float32(x, vocab, null, "bare");
        Assert.Throws<ArgumentException>(() => CorpusRun.Evaluate(_engine, noTargets));
        using var withTargets = MemoryRowSource.Float32(x, vocab, CorpusCheck.Targets(data, rows, vocab, 0), "y");
        Assert.ThrowsAny<ArgumentException>(() => CorpusRun.Evaluate(_engine, withTargets, run: new CorpusRunOptions { ChunkBytes = 0 }));
        Assert.ThrowsAny<ArgumentException>(() => CorpusRun.Evaluate(_engine, withTargets, new CrossEntropyOptions { LabelSmoothing = 2 }));
        Assert.ThrowsAny<ArgumentException>(() => CorpusRun.Compare(_engine, withTargets, noTargets, 0f));
        using var shorter = MemoryRowSource.Float32(x.AsMemory(0, (rows - 1) * vocab), vocab, null, "shorter");
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, withTargets, shorter));
        Assert.Equal("shorter", e.Source);
        using var narrower = MemoryRowSource.Float32(x.AsMemory(0, rows * (vocab - 1)), vocab - 1, null, "narrower");
        Assert.Throws<RowSourceException>(() => CorpusRun.Compare(_engine, withTargets, narrower));
    }

    [Fact]
    public void Several_engines_give_the_bits_of_one()
    {
        const int rows = 33, vocab = 523;
        var data = new TestData(90);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var q = data.Perturbed(x, 0.2);
        using var second = new InfoEngine(new InfoEngineOptions { Device = "cpu", MaxDegreeOfParallelism = 2 });
        using var third = new InfoEngine(new InfoEngineOptions { Device = "cpu", MaxDegreeOfParallelism = 2 });
        InfoEngine[] engines = [_engine, second, third];
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        using var test = MemoryRowSource.Float32(q, vocab, null, "test");
        var seen = new int[rows];
        var lastReport = default(CorpusProgress);
        var run = new CorpusRunOptions
        {
            ChunkBytes = (2 * source.RowBytes) + 1,
            PerRow = (first, v) =>
            {
                for (int i = 0; i < v.Length; i++)
                {
                    seen[first + i]++;
                }
            },
            Progress = new SyncProgress(r => lastReport = r.Rows > lastReport.Rows ? r : lastReport),
        };
        var eval = CorpusRun.Evaluate(engines, source, null, run);
        CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, vocab, y), eval.Evaluation, "three engines");
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(rows, lastReport.Rows);

        var compare = CorpusRun.Compare(engines, source, test, run: run with { PerRow = null, Progress = null });
        CorpusCheck.Same(CorpusCheck.OneCompare(_engine, x, q, vocab, y), compare.Comparison, "three engines, compare", values: false);

        // Failures and cancellation reach the caller as with one engine.
        var bad = (float[])x.Clone();
        bad[(20 * vocab) + 1] = float.PositiveInfinity;
        using var badSource = MemoryRowSource.Float32(bad, vocab, y, "bad");
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(engines, badSource, null, new CorpusRunOptions { ChunkBytes = 1 }));
        Assert.Equal(20, e.Row);
        Assert.Equal("bad", e.Source);
        using var flaky = new ScriptedSource(x, vocab, y, "flaky", first => first >= 11 ? new IOException("gone") : null);
        var f = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(engines, flaky, null, new CorpusRunOptions { ChunkBytes = 1 }));
        Assert.Equal("flaky", f.Source);
        Assert.IsType<IOException>(f.InnerException);
        using var cts = new CancellationTokenSource();
        var cancelling = new CorpusRunOptions { ChunkBytes = 1, Progress = new SyncProgress(_ => cts.CancelAfter(0)) };
        Assert.ThrowsAny<OperationCanceledException>(() => CorpusRun.Evaluate(engines, source, null, cancelling, cts.Token));
    }

    [Fact]
    public void Chunk_size_does_not_change_the_bits_at_a_realistic_vocabulary()
    {
        // 70001 columns: wider than one 65536-column slice, so the CPU path runs a call of few rows
        // (one-row chunks, a shard's short tail) slice by slice in parallel, and a call of many rows
        // row by row; both must give the same bits.
        const int rows = 12, vocab = 70001;
        var data = new TestData(91);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        var expected = CorpusCheck.OneCall(_engine, x, vocab, y);
        using var source = MemoryRowSource.Float32(x, vocab, y, "wide");
        var chunked = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = 1 });
        CorpusCheck.Same(expected, chunked.Evaluation, "one-row chunks, vocab 70001");
    }

    [Fact]
    public void Shards_merge_to_the_bits_of_one_run_at_a_realistic_vocabulary()
    {
        const int rows = 12, vocab = 70001, n = 5;
        var data = new TestData(92);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        using var source = MemoryRowSource.Float32(x, vocab, y, "wide");
        var whole = CorpusRun.Evaluate(_engine, source);
        var merged = CorpusPartial.Merge(Enumerable.Range(0, n).Select(i => CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { Shard = new Shard(i, n) })));
        CorpusCheck.Same(whole.Evaluation!, merged.Evaluation, "5 shards vs one run, vocab 70001");
    }
}

/// <summary>The corpus layer on ILGPU's CPU accelerator: tiny shapes (it simulates a GPU thread by thread).</summary>
public sealed class IlgpuCpuCorpusRunTests(IlgpuCpuFixture fixture) : IClassFixture<IlgpuCpuFixture>
{
    [Fact]
    public void Chunked_and_sharded_runs_match_one_call()
    {
        var engine = fixture.Engine;
        const int rows = 12, vocab = 37;
        var data = new TestData(95);
        var x = data.Logits(rows, vocab);
        var q = data.Perturbed(x, 0.2);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var expected = CorpusCheck.OneCall(engine, x, vocab, y);
        using var source = MemoryRowSource.Float32(x, vocab, y, "mem");
        using var test = MemoryRowSource.Float32(q, vocab, null, "test");
        var chunked = CorpusRun.Evaluate(engine, source, run: new CorpusRunOptions { ChunkBytes = (5 * source.RowBytes) + 1 });
        var merged = CorpusPartial.Merge(Enumerable.Range(0, 3).Select(i => CorpusRun.Evaluate(engine, source, run: new CorpusRunOptions { Shard = new Shard(i, 3) })));

        // Accelerators may reduce in a different order from call to call: counts exactly, sums to float32's floor.
        foreach (var (what, actual) in new[] { ("chunks", chunked.Evaluation!), ("shards", merged.Evaluation!) })
        {
            Assert.Equal(expected.Tokens, actual.Tokens);
            Assert.Equal(expected.Ignored, actual.Ignored);
            Assert.Equal(expected.Top1Hits, actual.Top1Hits);
            Tolerance.Close(expected.NllSum, actual.NllSum, 1e-6, 1e-5, $"ilgpu-cpu {what} NllSum");
            Tolerance.Close(expected.EntropySum, actual.EntropySum, 1e-6, 1e-5, $"ilgpu-cpu {what} EntropySum");
            Assert.Equal(expected.WeightSum, actual.WeightSum);
        }

        var one = CorpusCheck.OneCompare(engine, x, q, vocab, y);
        var compared = CorpusRun.Compare(engine, source, test, run: new CorpusRunOptions { ChunkBytes = 1 });
        Assert.Equal(one.Tokens, compared.Comparison!.Tokens);
        Assert.Equal(one.SameTop1, compared.Comparison.SameTop1);
        Tolerance.Close(one.KlSum, compared.Comparison.KlSum, 1e-5, 1e-6, "ilgpu-cpu KlSum");
        Tolerance.Close(one.NllSumTest, compared.Comparison.NllSumTest, 1e-6, 1e-5, "ilgpu-cpu NllSumTest");
    }
}
