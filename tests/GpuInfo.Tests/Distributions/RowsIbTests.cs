using GpuInfo.Corpus;

namespace GpuInfo.Tests.Distributions;

/// <summary>The Information Bottleneck over rows of logits (issue 16): recovery, float64 agreement, the dense path, chunking, bad rows.</summary>
public sealed class RowsIbTests : IDisposable
{
    private readonly InfoEngine _engine = new(new InfoEngineOptions { Device = "cpu" });

    public void Dispose() => _engine.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resident_rows_are_read_once_in_a_whole_solve_and_streamed_rows_once_a_pass(bool resident)
    {
        var planted = new PlantedLogits(groups: 3, perGroup: 7, vocab: 301, spread: 2, noise: 0.3, seed: 5);
        int reads = 0;
        using var source = new Corpus.ScriptedSource(planted.Values, planted.Vocab, new long[planted.Rows], "counted", first =>
        {
            reads += first == 0 ? 1 : 0;
            return null;
        });
        _engine.IbChunkBytes = 4 * 4 * planted.Vocab;
        _engine.IbResidentBytes = resident ? 1L << 30 : 0;
        var r = _engine.InformationBottleneck(ConditionalRows.FromLogits(source), new IbOptions { Beta = 20, Clusters = 3, Restarts = 1, Seed = 1, MaxIterations = 5 });

        // Streamed: the setup read, the first decoder's, and one an iteration.
        Assert.Equal(resident ? 1 : 2 + r.Iterations, reads);
    }

    [Theory]
    [InlineData(1.0, false)]
    [InlineData(0.0, false)]
    [InlineData(1.0, true)]
    public void Recovers_planted_groups_and_its_figures_agree_with_a_float64_recomputation(double alpha, bool managed)
    {
        var planted = new PlantedLogits(groups: 4, perGroup: 15, vocab: 997, spread: 2, noise: 0.3, seed: Environment.TickCount);
        _engine.IbManagedProducts = managed;
        _engine.IbChunkBytes = 7 * 4 * planted.Vocab;
        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        var rows = ConditionalRows.FromLogits(source, temperature: 1.5);
        var r = _engine.InformationBottleneck(rows, new IbOptions { Beta = 200, Alpha = alpha, Clusters = 4, Restarts = 3, Seed = 3, MaxIterations = 500 });

        AssertSamePartition(planted.Group, r.Assignments);
        var px = Enumerable.Repeat(1.0 / planted.Rows, planted.Rows).ToArray();
        var (ixt, ity, ht) = PlantedLogits.Recompute(planted.Values, planted.Vocab, 1.5, px, r.Encoder, r.ClusterMarginal.Length);
        AssertRelative(ixt, r.IxtBits, 1e-6, "I(X;T)");
        AssertRelative(ity, r.ItyBits, 1e-6, "I(T;Y)");
        AssertRelative(ht, r.HtBits, 1e-6, "H(T)");
        Assert.Equal(2.0, r.HtBits, 1e-3);
        Assert.Contains(managed ? "managed" : string.Empty, r.Products, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Logits_path_and_dense_joint_give_the_same_answer(int seed)
    {
        // Fixed data seeds: from the same start both paths iterate the same map, but on some inputs two
        // fixed points lie within float32 rounding of each other and the paths may settle on either.
        var planted = new PlantedLogits(groups: 3, perGroup: 6, vocab: 301, spread: 1, noise: 0.5, seed: seed);
        var weights = Enumerable.Range(0, planted.Rows).Select(i => 1.0 + (i % 5)).ToArray();
        var joint = new double[planted.Rows, planted.Vocab];
        double total = weights.Sum();
        for (int i = 0; i < planted.Rows; i++)
        {
            var p = PlantedLogits.Softmax(planted.Values.AsSpan(i * planted.Vocab, planted.Vocab), 1);
            for (int j = 0; j < planted.Vocab; j++)
            {
                joint[i, j] = weights[i] / total * p[j];
            }
        }

        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        foreach (double beta in new[] { 0.5, 3.0, 30.0 })
        {
            var options = new IbOptions { Beta = beta, Clusters = 5, Restarts = 1, Seed = 11, MaxIterations = 3000 };
            var dense = _engine.InformationBottleneck(JointDistribution.FromWeights(joint), options);
            var fromRows = _engine.InformationBottleneck(ConditionalRows.FromLogits(source, weights: weights), options);
            Assert.Equal(dense.IxyBits, fromRows.IxyBits, 1e-5);
            Assert.Equal(dense.IxtBits, fromRows.IxtBits, 1e-4);
            Assert.Equal(dense.ItyBits, fromRows.ItyBits, 1e-4);
            Assert.Equal(dense.HtBits, fromRows.HtBits, 1e-4);
            Assert.Equal(dense.Clusters, fromRows.Clusters);
        }
    }

    /// <summary>
    /// At small temperatures the rows are near their argmax: I(X;Y) still matches float64, and no
    /// row's Σ p ln p is positive. z/T rounded in float32 before the max came off put |z/T|·2^-24
    /// nats into every exponent: I(X;Y) off by 4e-3 relative at T = 1e-5 and 0 at T = 1e-8.
    /// </summary>
    [Theory]
    [InlineData(1e-2)]
    [InlineData(1e-5)]
    [InlineData(1e-8)]
    public void Small_temperatures_keep_the_mutual_information(double temperature)
    {
        var planted = new PlantedLogits(groups: 4, perGroup: 8, vocab: 97, spread: 3, noise: 1, seed: Environment.TickCount);
        var joint = new double[planted.Rows, planted.Vocab];
        for (int i = 0; i < planted.Rows; i++)
        {
            var p = PlantedLogits.Softmax(planted.Values.AsSpan(i * planted.Vocab, planted.Vocab), temperature);
            for (int j = 0; j < planted.Vocab; j++)
            {
                joint[i, j] = p[j] / planted.Rows;
            }
        }

        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        var r = _engine.InformationBottleneck(ConditionalRows.FromLogits(source, temperature), new IbOptions { Beta = 10, Clusters = 4, Restarts = 1 });
        double expected = JointDistribution.FromWeights(joint).MutualInformation();
        Assert.Equal(expected, r.IxyBits, 1e-6 * expected);
        Assert.True(r.ItyBits <= r.IxyBits * (1 + 1e-6), $"I(T;Y) {r.ItyBits} > I(X;Y) {r.IxyBits}");
    }

    [Fact]
    public void Probability_rows_half_precision_rows_and_chunk_sizes_agree()
    {
        var planted = new PlantedLogits(groups: 3, perGroup: 5, vocab: 513, spread: 2, noise: 0.2, seed: Environment.TickCount);
        var halves = planted.Values.Select(v => (Half)v).ToArray();
        var rounded = halves.Select(h => (float)h).ToArray();
        var probabilities = new float[rounded.Length];
        for (int i = 0; i < planted.Rows; i++)
        {
            var p = PlantedLogits.Softmax(rounded.AsSpan(i * planted.Vocab, planted.Vocab), 1);
            for (int j = 0; j < planted.Vocab; j++)
            {
                probabilities[i * planted.Vocab + j] = (float)p[j];
            }
        }

        var options = new IbOptions { Beta = 20, Clusters = 4, Restarts = 1, Seed = 1 };
        using var half = MemoryRowSource.Float16(halves, planted.Vocab);
        using var probs = MemoryRowSource.Float32(probabilities, planted.Vocab);
        _engine.IbChunkBytes = 4L * planted.Vocab;
        var a = _engine.InformationBottleneck(ConditionalRows.FromLogits(half), options);
        _engine.IbChunkBytes = 1L << 30;
        var b = _engine.InformationBottleneck(ConditionalRows.FromLogits(half), options);
        var c = _engine.InformationBottleneck(ConditionalRows.FromProbabilities(probs), options);
        foreach (var other in new[] { b, c })
        {
            Assert.Equal(a.IxtBits, other.IxtBits, 1e-5);
            Assert.Equal(a.ItyBits, other.ItyBits, 1e-5);
            Assert.Equal(a.IxyBits, other.IxyBits, 1e-5);
            Assert.Equal(a.Assignments, other.Assignments);
        }
    }

    [Fact]
    public void Minus_infinity_logits_are_probability_zero()
    {
        var planted = new PlantedLogits(groups: 2, perGroup: 4, vocab: 40, spread: 2, noise: 0.1, seed: 5);
        for (int i = 0; i < planted.Rows; i++)
        {
            planted.Values[i * planted.Vocab + 3] = float.NegativeInfinity;
            planted.Values[i * planted.Vocab + (i % 7) + 10] = float.NegativeInfinity;
        }

        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        var r = _engine.InformationBottleneck(ConditionalRows.FromLogits(source), new IbOptions { Beta = 50, Clusters = 3, Seed = 2 });
        var px = Enumerable.Repeat(1.0 / planted.Rows, planted.Rows).ToArray();
        var (ixt, ity, _) = PlantedLogits.Recompute(planted.Values, planted.Vocab, 1, px, r.Encoder, r.ClusterMarginal.Length);
        Assert.True(double.IsFinite(r.ItyBits) && double.IsFinite(r.IxyBits));
        AssertRelative(ixt, r.IxtBits, 1e-6, "I(X;T)");
        AssertRelative(ity, r.ItyBits, 1e-6, "I(T;Y)");
        Assert.All(r.Decoder.Where((_, e) => e % planted.Vocab == 3), q => Assert.Equal(0, q));
    }

    [Fact]
    public void Resident_distributions_and_a_float32_file_softmaxed_where_it_was_read_give_what_rows_in_memory_give()
    {
        // Read every pass, a float32 file's chunks are softmaxed in the pipeline's own buffers and memory
        // rows are copied out; resident, both are softmaxed once into chunks of 4 read chunks (here 16 of
        // 21 rows, then 5) and reused. The same arithmetic on the same values gives identical results;
        // resident and read chunks differ in size, so their float32 products round differently.
        var planted = new PlantedLogits(groups: 3, perGroup: 7, vocab: 389, spread: 2, noise: 0.4, seed: Environment.TickCount);
        for (int i = 0; i < planted.Rows; i += 4)
        {
            planted.Values[i * planted.Vocab + (i % 11)] = float.NegativeInfinity;
        }

        var probabilities = new float[planted.Values.Length];
        for (int i = 0; i < planted.Rows; i++)
        {
            var p = PlantedLogits.Softmax(planted.Values.AsSpan(i * planted.Vocab, planted.Vocab), 1);
            for (int j = 0; j < planted.Vocab; j++)
            {
                probabilities[i * planted.Vocab + j] = (float)p[j];
            }
        }

        string dir = Directory.CreateTempSubdirectory("gpuinfo-ib-inplace-").FullName;
        try
        {
            string logitsPath = Path.Combine(dir, "logits.npy"), probabilitiesPath = Path.Combine(dir, "p.npy");
            GpuInfo.Formats.NpyFormat.Write<float>(logitsPath, planted.Values, [planted.Rows, planted.Vocab]);
            GpuInfo.Formats.NpyFormat.Write<float>(probabilitiesPath, probabilities, [planted.Rows, planted.Vocab]);
            _engine.IbChunkBytes = 4L * 4 * planted.Vocab; // 4 rows a chunk: 21 rows end in a partial chunk
            var options = new IbOptions { Beta = 30, Clusters = 3, Restarts = 2, Seed = 5, MaxIterations = 200 };
            using var file = RowSources.Open(logitsPath);
            using var memory = MemoryRowSource.Float32(planted.Values, planted.Vocab);
            using var probabilityFile = RowSources.Open(probabilitiesPath);
            using var probabilityMemory = MemoryRowSource.Float32(probabilities, planted.Vocab);
            var pairs = new[]
            {
                (ConditionalRows.FromLogits(file, temperature: 1.7), ConditionalRows.FromLogits(memory, temperature: 1.7)),
                (ConditionalRows.FromProbabilities(probabilityFile), ConditionalRows.FromProbabilities(probabilityMemory)),
            };
            foreach (var (fromFile, fromMemory) in pairs)
            {
                IbResult streamed = null!;
                foreach (long? resident in new long?[] { 0, null })
                {
                    _engine.IbResidentBytes = resident;
                    var a = _engine.InformationBottleneck(fromFile, options);
                    var b = _engine.InformationBottleneck(fromMemory, options);
                    Assert.Equal(b.Encoder, a.Encoder);
                    Assert.Equal(b.Decoder, a.Decoder);
                    Assert.Equal(b.IxyBits, a.IxyBits);
                    Assert.Equal(b.Iterations, a.Iterations);
                    Assert.Equal(resident is null, a.Products.Contains("distributions resident", StringComparison.Ordinal));
                    if (resident == 0)
                    {
                        streamed = a;
                        continue;
                    }

                    AssertSamePartition(planted.Group, a.Assignments);
                    AssertSamePartition(planted.Group, streamed.Assignments);
                    AssertRelative(streamed.IxtBits, a.IxtBits, 1e-5, "I(X;T)");
                    AssertRelative(streamed.ItyBits, a.ItyBits, 1e-5, "I(T;Y)");
                    Assert.Equal(streamed.IxyBits, a.IxyBits, 1e-12);
                }
            }

            planted.Values[9 * planted.Vocab + 5] = float.NaN;
            string badPath = Path.Combine(dir, "bad.npy");
            GpuInfo.Formats.NpyFormat.Write<float>(badPath, planted.Values, [planted.Rows, planted.Vocab]);
            using var bad = RowSources.Open(badPath);
            foreach (long? resident in new long?[] { 0, null })
            {
                _engine.IbResidentBytes = resident;
                var e = Assert.Throws<RowSourceException>(() => _engine.InformationBottleneck(ConditionalRows.FromLogits(bad), options));
                Assert.Equal(9, e.Row);
                Assert.Contains("bad.npy", e.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+inf")]
    public void A_bad_logit_names_its_row(float bad, string expected)
    {
        var values = new float[6 * 10];
        values[4 * 10 + 7] = bad;
        using var source = MemoryRowSource.Float32(values, 10, name: "ctx.npy");
        var e = Assert.Throws<RowSourceException>(() => _engine.InformationBottleneck(ConditionalRows.FromLogits(source), new IbOptions { Clusters = 2 }));
        Assert.Equal(4, e.Row);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("ctx.npy: row 4:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_that_are_not_distributions_are_refused()
    {
        var values = Enumerable.Repeat(0.1f, 5 * 10).ToArray();
        values[2 * 10] = 0.3f;
        using var sums = MemoryRowSource.Float32(values, 10, name: "p.npy");
        var e = Assert.Throws<RowSourceException>(() => _engine.InformationBottleneck(ConditionalRows.FromProbabilities(sums), new IbOptions { Clusters = 2 }));
        Assert.Equal(2, e.Row);
        Assert.Contains("sum to 1.2", e.Message, StringComparison.Ordinal);

        var allMinusInf = new float[3 * 4];
        Array.Fill(allMinusInf, float.NegativeInfinity, 4, 4);
        using var dead = MemoryRowSource.Float32(allMinusInf, 4);
        Assert.Equal(1, Assert.Throws<RowSourceException>(() => _engine.InformationBottleneck(ConditionalRows.FromLogits(dead), new IbOptions { Clusters = 2 })).Row);
    }

    [Fact]
    public void Bad_weights_and_temperatures_name_their_parameter()
    {
        using var source = MemoryRowSource.Float32(new float[4 * 3], 3);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, weights: [1, 2, 3])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, weights: [1, -2, 3, 1])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, weights: [1, double.NaN, 3, 1])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, weights: [0, 0, 0, 0])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, weights: [1e308, 1e308, 1e308, 1e308])).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, temperature: 0)).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, temperature: 1e-40)).ParamName); // 1/T is +inf in float32: every distribution NaN
        Assert.Equal("temperature", Assert.Throws<ArgumentException>(() => ConditionalRows.FromLogits(source, temperature: double.PositiveInfinity)).ParamName);
    }

    [Fact]
    public void The_curve_over_rows_finds_the_planted_split()
    {
        var planted = new PlantedLogits(groups: 2, perGroup: 8, vocab: 211, spread: 1.5, noise: 0.2, seed: 17);
        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        var progress = new List<IbIteration>();
        var curve = _engine.InformationCurve(ConditionalRows.FromLogits(source), [0.05, 0.5, 5, 20], new IbOptions { Clusters = 4, Restarts = 1, Seed = 4 }, new SyncProgress(progress));
        Assert.Equal(1, curve.Points[0].Clusters);
        Assert.Equal(2, curve.Points[^1].Clusters);
        Assert.NotEmpty(curve.Transitions);
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.True(p.Iteration >= 1 && double.IsFinite(p.Objective)));
        AssertSamePartition(planted.Group, curve.Points[^1].Assignments);
    }

    private static void AssertSamePartition(int[] expected, int[] actual)
    {
        var map = new Dictionary<int, int>();
        for (int i = 0; i < expected.Length; i++)
        {
            if (!map.TryAdd(expected[i], actual[i]))
            {
                Assert.True(map[expected[i]] == actual[i], $"context {i} of group {expected[i]} is in cluster {actual[i]}, its group in {map[expected[i]]}");
            }
        }

        Assert.Equal(map.Count, map.Values.Distinct().Count());
    }

    private static void AssertRelative(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1e-12, Math.Abs(expected)), $"{what}: {actual} vs float64 {expected} (relative {Math.Abs(actual - expected) / Math.Abs(expected):G3})");

    /// <summary>Reports on the solving thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(List<IbIteration> sink) : IProgress<IbIteration>
    {
        public void Report(IbIteration value) => sink.Add(value);
    }
}
