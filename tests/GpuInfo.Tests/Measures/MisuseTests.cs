using GpuInfo.Benchmarking;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Samples;
using GpuInfo.Tests.Distributions;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Misuse of the public API: every enum out of range, every option at its limits (accepted) and
/// just past them (refused, naming the option), row counts past what one call takes, and spans of
/// the wrong length. A refusal happens where the argument enters, before any output is written.
/// </summary>
public sealed class MisuseTests : IDisposable
{
    private const int Rows = 3;
    private const int Vocab = 7;
    private const float Untouched = 12345f;
    private const long TooManyRows = (long)int.MaxValue + 1;

    private readonly InfoEngine _engine = new(new InfoEngineOptions { Device = "cpu" });
    private readonly float[] _x = new TestData(20).Logits(Rows, Vocab);
    private readonly int[] _y = [0, 3, Vocab - 1];

    public void Dispose() => _engine.Dispose();

    [Fact]
    public unsafe void Out_of_range_scalar_types_are_refused()
    {
        var bytes = new byte[Rows * Vocab * 4];
        var sample = SampleLogits.Create(2, 8);
        fixed (float* p = _x)
        {
            nint data = (nint)p;
            foreach (var type in Enum.GetValues<ScalarType>())
            {
                Assert.Equal(type, Logits.FromPointer((void*)data, 1, Vocab, type).Type);
                Assert.Equal(type, Logits.FromBytes(bytes, Vocab, type).Type);
            }

            foreach (var type in Undefined<ScalarType>())
            {
                Refused<ArgumentOutOfRangeException>("type", () => Logits.FromPointer((void*)data, 1, Vocab, type), type);
                Refused<ArgumentOutOfRangeException>("type", () => Logits.FromBytes(bytes, Vocab, type), type);
                Refused<ArgumentOutOfRangeException>("dtype", () => AcceleratorBenchmark.Run(_engine, sample, type), type);
            }

            // The case: float32 data labelled (ScalarType)99 was read as bf16.
            Refused<ArgumentOutOfRangeException>("type", () => Logits.FromPointer((void*)data, 1, 5, (ScalarType)99), 99);
        }
    }

    [Fact]
    public void Out_of_range_reductions_are_refused_before_any_output_is_written()
    {
        foreach (var reduction in Enum.GetValues<Reduction>())
        {
            var r = _engine.CrossEntropy(Logits.Float32(_x, Vocab), _y, new CrossEntropyOptions { Reduction = reduction });
            Assert.Equal(Rows, r.ScoredRows);
        }

        foreach (var reduction in Undefined<Reduction>())
        {
            var options = new CrossEntropyOptions { Reduction = reduction };
            var loss = Filled(Rows);
            Refused<ArgumentOutOfRangeException>("Reduction", () => _engine.CrossEntropy(Logits.Float32(_x, Vocab), _y, options, loss), reduction);
            AssertUntouched(loss);
            var gradient = Filled(Rows * Vocab);
            Refused<ArgumentOutOfRangeException>("Reduction", () => _engine.CrossEntropyWithGradient(Logits.Float32(_x, Vocab), _y, gradient, options, loss), reduction);
            AssertUntouched(gradient);
            AssertUntouched(loss);
            var inPlace = (float[])_x.Clone();
            Refused<ArgumentOutOfRangeException>("Reduction", () => _engine.CrossEntropyWithGradientInPlace(inPlace, Vocab, _y, options), reduction);
            Assert.Equal(_x, inPlace);
            var totals = new PerplexityAccumulator();
            Refused<ArgumentOutOfRangeException>("Reduction", () => _engine.Evaluate(Logits.Float32(_x, Vocab), _y, totals, options, new EvaluationRows { Loss = loss }), reduction);
            Assert.Equal((0L, 0L), (totals.Tokens, totals.Ignored));
            AssertUntouched(loss);
            using var source = MemoryRowSource.Float32(_x, Vocab, new long[] { 0, 3, Vocab - 1 });
            Refused<ArgumentOutOfRangeException>("Reduction", () => CorpusRun.Evaluate(_engine, source, options), reduction);
        }
    }

    [Fact]
    public void Out_of_range_kl_directions_are_refused_before_any_output_is_written()
    {
        var q = new TestData(21).Logits(Rows, Vocab);
        foreach (var direction in Enum.GetValues<KlDirection>())
        {
            var kl = Filled(Rows);
            _engine.KlDivergence(Logits.Float32(_x, Vocab), Logits.Float32(q, Vocab), kl, direction);
            Assert.All(kl, v => Assert.True(v >= 0 && v < Untouched));
        }

        foreach (var direction in Undefined<KlDirection>())
        {
            var kl = Filled(Rows);
            Refused<ArgumentOutOfRangeException>("direction", () => _engine.KlDivergence(Logits.Float32(_x, Vocab), Logits.Float32(q, Vocab), kl, direction), direction);
            AssertUntouched(kl);
        }
    }

    [Fact]
    public void Out_of_range_info_units_are_refused()
    {
        var joint = InformationBottleneckTests.RandomJoint(3, 4, 1);
        foreach (var unit in Enum.GetValues<InfoUnit>())
        {
            Assert.True(joint.MutualInformation(unit) > 0);
        }

        foreach (var unit in Undefined<InfoUnit>())
        {
            Refused<ArgumentOutOfRangeException>("unit", () => joint.EntropyX(unit), unit);
            Refused<ArgumentOutOfRangeException>("unit", () => joint.EntropyY(unit), unit);
            Refused<ArgumentOutOfRangeException>("unit", () => joint.JointEntropy(unit), unit);
            Refused<ArgumentOutOfRangeException>("unit", () => joint.ConditionalEntropyYGivenX(unit), unit);
            Refused<ArgumentOutOfRangeException>("unit", () => joint.MutualInformation(unit), unit);
        }
    }

    [Fact]
    public void Out_of_range_dtypes_are_refused_and_no_file_is_written()
    {
        using var dir = new TempDir();
        foreach (var dtype in Enum.GetValues<DType>())
        {
            Assert.NotEmpty(dtype.SafetensorsName());
            string path = dir.File($"{dtype}.safetensors");
            SafetensorsFormat.Write(path, [("t", dtype, new long[] { 1 }, new byte[dtype.Size()])]);
            Assert.Equal(dtype, SafetensorsFormat.Read(path, "t").DType);
        }

        foreach (var dtype in Undefined<DType>())
        {
            string path = dir.File("bad.safetensors");
            Refused<ArgumentOutOfRangeException>("tensors", () => SafetensorsFormat.Write(path, [("t", dtype, new long[] { 1 }, new byte[8])]), dtype);
            Assert.False(File.Exists(path));
            Refused<ArgumentOutOfRangeException>("type", () => dtype.Size(), dtype);
            Refused<ArgumentOutOfRangeException>("type", () => dtype.SafetensorsName(), dtype);
        }
    }

    [Fact]
    public void Out_of_range_row_value_kinds_are_refused()
    {
        foreach (var kind in Enum.GetValues<RowValueKind>())
        {
            using var source = MemoryRowSource.Float32(_x, Vocab, values: kind);
            Assert.Equal(kind, source.Values);
        }

        foreach (var kind in Undefined<RowValueKind>())
        {
            Refused<ArgumentOutOfRangeException>("values", () => MemoryRowSource.Float32(_x, Vocab, values: kind), kind);
        }
    }

    [Fact]
    public void Cross_entropy_options_at_their_limits_are_accepted()
    {
        var zeros = new float[Vocab];
        var ones = Enumerable.Repeat(1f, Vocab).ToArray();
        CrossEntropyOptions[] accepted =
        [
            new() { LabelSmoothing = 0f },
            new() { LabelSmoothing = 1f },
            new() { ZLoss = 0f },
            new() { ZLoss = 1e30f },
            new() { Temperature = 1e-30f },
            new() { Temperature = float.MaxValue },
            new() { ClassWeights = zeros },
            new() { ClassWeights = ones },
            new() { IgnoreIndex = long.MinValue },
            new() { IgnoreIndex = long.MaxValue },
            new() { IgnoreIndex = 3 },
        ];
        foreach (var options in accepted)
        {
            var loss = Filled(Rows);
            var r = _engine.CrossEntropy(Logits.Float32(_x, Vocab), _y, options, loss);
            Assert.True(r.ScoredRows + r.IgnoredRows == Rows, $"{options}");
            Assert.All(loss, v => Assert.True(v >= 0 && float.IsFinite(v), $"{options}: loss {v}"));
        }
    }

    [Fact]
    public void Cross_entropy_options_past_their_limits_are_refused_before_any_output_is_written()
    {
        (string Name, CrossEntropyOptions Options)[] refused =
        [
            ("LabelSmoothing", new() { LabelSmoothing = -float.Epsilon }),
            ("LabelSmoothing", new() { LabelSmoothing = MathF.BitIncrement(1f) }),
            ("LabelSmoothing", new() { LabelSmoothing = float.NaN }),
            ("ZLoss", new() { ZLoss = -float.Epsilon }),
            ("ZLoss", new() { ZLoss = float.PositiveInfinity }),
            ("ZLoss", new() { ZLoss = float.NaN }),
            ("Temperature", new() { Temperature = 0f }),
            ("Temperature", new() { Temperature = -float.Epsilon }),
            ("Temperature", new() { Temperature = float.PositiveInfinity }),
            ("Temperature", new() { Temperature = float.NaN }),
            ("ClassWeights", new() { ClassWeights = new float[Vocab - 1] }),
            ("ClassWeights", new() { ClassWeights = new float[Vocab + 1] }),
            ("ClassWeights", new() { ClassWeights = Weights(-float.Epsilon) }),
            ("ClassWeights", new() { ClassWeights = Weights(float.PositiveInfinity) }),
            ("ClassWeights", new() { ClassWeights = Weights(float.NaN) }),
        ];
        foreach (var (name, options) in refused)
        {
            var loss = Filled(Rows);
            Refused<ArgumentException>(name, () => _engine.CrossEntropy(Logits.Float32(_x, Vocab), _y, options, loss), options);
            AssertUntouched(loss);
            var totals = new PerplexityAccumulator();
            Refused<ArgumentException>(name, () => _engine.Evaluate(Logits.Float32(_x, Vocab), _y, totals, options), options);
            Assert.Equal(0, totals.Tokens);
            using var source = MemoryRowSource.Float32(_x, Vocab, new long[] { 0, 3, Vocab - 1 });
            Refused<ArgumentException>(name, () => CorpusRun.Evaluate(_engine, source, options), options);
        }

        static float[] Weights(float bad)
        {
            var w = Enumerable.Repeat(1f, Vocab).ToArray();
            w[Vocab / 2] = bad;
            return w;
        }
    }

    [Fact]
    public void Ib_options_at_their_limits_are_accepted()
    {
        var joint = InformationBottleneckTests.RandomJoint(3, 4, 2);
        IbOptions[] accepted =
        [
            new() { Beta = 0 },
            new() { Beta = 1e300 },
            new() { Alpha = 0 },
            new() { Alpha = 1 },
            new() { Clusters = null },
            new() { Clusters = 1 },
            new() { Clusters = 10 },
            new() { Restarts = 1 },
            new() { MaxIterations = 1 },
            new() { Tolerance = double.Epsilon },
            new() { Seed = int.MinValue },
            new() { Seed = int.MaxValue },
        ];
        foreach (var options in accepted)
        {
            var r = _engine.InformationBottleneck(joint, options);
            Assert.True(r.Iterations >= 1, $"{options}");
            Assert.Single(_engine.InformationCurve(joint, [1.0], options).Points);
        }
    }

    [Fact]
    public void Ib_options_past_their_limits_are_refused_naming_the_option()
    {
        var joint = InformationBottleneckTests.RandomJoint(3, 4, 2);
        (string Name, IbOptions Options)[] refused =
        [
            ("Beta", new() { Beta = -double.Epsilon }),
            ("Beta", new() { Beta = double.PositiveInfinity }),
            ("Beta", new() { Beta = double.NaN }),
            ("Alpha", new() { Alpha = -double.Epsilon }),
            ("Alpha", new() { Alpha = Math.BitIncrement(1.0) }),
            ("Alpha", new() { Alpha = double.NaN }),
            ("Clusters", new() { Clusters = 0 }),
            ("Clusters", new() { Clusters = int.MinValue }),
            ("Restarts", new() { Restarts = 0 }),
            ("Restarts", new() { Restarts = int.MinValue }),
            ("MaxIterations", new() { MaxIterations = 0 }),
            ("MaxIterations", new() { MaxIterations = -1 }),
            ("Tolerance", new() { Tolerance = 0 }),
            ("Tolerance", new() { Tolerance = -double.Epsilon }),
            ("Tolerance", new() { Tolerance = double.NaN }),
        ];
        foreach (var (name, options) in refused)
        {
            Refused<ArgumentException>(name, () => _engine.InformationBottleneck(joint, options), options);
            Refused<ArgumentException>(name, () => _engine.InformationCurve(joint, [1.0], options), options);
        }
    }

    [Fact]
    public void Engine_options_at_their_limits_are_accepted()
    {
        InfoEngineOptions[] accepted =
        [
            new() { Device = "cpu", MaxDegreeOfParallelism = 0 },
            new() { Device = "cpu", MaxDegreeOfParallelism = 1 },
            new() { Device = "cpu", MaxDegreeOfParallelism = int.MaxValue },
            new() { Device = "cpu", DeviceMemoryBudgetBytes = null },
            new() { Device = "cpu", DeviceMemoryBudgetBytes = 1 },
            new() { Device = "cpu", DeviceMemoryBudgetBytes = long.MaxValue },
        ];
        foreach (var options in accepted)
        {
            using var engine = new InfoEngine(options);
            var lse = Filled(Rows);
            engine.LogSumExp(Logits.Float32(_x, Vocab), lse);
            Assert.All(lse, v => Assert.True(float.IsFinite(v) && v < Untouched, $"{options}"));
            foreach (var e in InfoEngine.CreateEngines("cpu", options))
            {
                e.Dispose();
            }
        }
    }

    [Fact]
    public void Engine_options_past_their_limits_are_refused_before_a_device_is_chosen()
    {
        (string Name, InfoEngineOptions Options)[] refused =
        [
            ("MaxDegreeOfParallelism", new() { Device = "cpu", MaxDegreeOfParallelism = -1 }),
            ("MaxDegreeOfParallelism", new() { Device = "cpu", MaxDegreeOfParallelism = -5 }),
            ("MaxDegreeOfParallelism", new() { Device = "cpu", MaxDegreeOfParallelism = int.MinValue }),
            ("DeviceMemoryBudgetBytes", new() { Device = "cpu", DeviceMemoryBudgetBytes = 0 }),
            ("DeviceMemoryBudgetBytes", new() { Device = "cpu", DeviceMemoryBudgetBytes = -1 }),
            ("DeviceMemoryBudgetBytes", new() { Device = "cpu", DeviceMemoryBudgetBytes = long.MinValue }),

            // Checked before the device request is parsed or any device is probed.
            ("MaxDegreeOfParallelism", new() { Device = "no-such-device", MaxDegreeOfParallelism = -1 }),
            ("DeviceMemoryBudgetBytes", new() { Device = "cuda:99", DeviceMemoryBudgetBytes = -1 }),
        ];
        foreach (var (name, options) in refused)
        {
            Refused<ArgumentOutOfRangeException>(name, () => new InfoEngine(options), options);
            Refused<ArgumentOutOfRangeException>(name, () => InfoEngine.CreateEngines("cpu", options), options);
        }
    }

    [Fact]
    public void Corpus_run_options_at_and_past_their_limits()
    {
        var targets = new long[] { 0, 3, Vocab - 1 };
        using var source = MemoryRowSource.Float32(_x, Vocab, targets);
        using var test = MemoryRowSource.Float32(new TestData(22).Logits(Rows, Vocab), Vocab, targets);
        var whole = CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions());
        foreach (long chunkBytes in new[] { 1L, Vocab * 4L, long.MaxValue })
        {
            var run = new CorpusRunOptions { ChunkBytes = chunkBytes };
            var partial = CorpusRun.Evaluate(_engine, source, run: run);
            Assert.Equal(whole.Evaluation!.NllSum, partial.Evaluation!.NllSum);
            Assert.Equal(Rows, CorpusRun.Compare(_engine, source, test, run: run).Comparison!.Tokens);
        }

        foreach (long chunkBytes in new[] { 0L, -1L, long.MinValue })
        {
            var run = new CorpusRunOptions { ChunkBytes = chunkBytes };
            Refused<ArgumentOutOfRangeException>("ChunkBytes", () => CorpusRun.Evaluate(_engine, source, run: run), chunkBytes);
            Refused<ArgumentOutOfRangeException>("ChunkBytes", () => CorpusRun.Compare(_engine, source, test, run: run), chunkBytes);
        }
    }

    [Fact]
    public unsafe void More_than_int_MaxValue_rows_are_refused_naming_the_logits_before_any_data_is_read()
    {
        // One real row; the row counts are lies that must be refused before the data is touched.
        fixed (float* p = _x)
        {
            nint data = (nint)p;
            var y = new int[1];
            var one = new float[1];
            var totals = new PerplexityAccumulator();
            var comparison = new ComparisonAccumulator();

            void TooMany(string name, Action call)
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(call);
                Assert.Equal(name, e.ParamName);
                Assert.Contains($"at most {int.MaxValue} rows", e.Message, StringComparison.Ordinal);
                Assert.Contains(TooManyRows.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
            }

            TooMany("logits", () => _engine.CrossEntropy(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), y));
            TooMany("logits", () => _engine.Evaluate(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), y, totals));
            TooMany("p", () => _engine.Top1Agreement(
                Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32)));
            TooMany("baseLogits", () => _engine.Compare(
                Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), comparison));
            Assert.Equal((0L, 0L), (totals.Tokens, comparison.Tokens));

            // Methods with a per-row output refuse the span, which cannot hold that many rows.
            Refused<ArgumentException>("gradient", () => _engine.CrossEntropyWithGradient(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), y, one), TooManyRows);
            Refused<ArgumentException>("destination", () => _engine.Entropy(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), one), TooManyRows);
            Refused<ArgumentException>("destination", () => _engine.LogSumExp(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), one), TooManyRows);
            Refused<ArgumentException>("destination", () => _engine.ArgMax(Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), new int[1]), TooManyRows);
            Refused<ArgumentException>("destination", () => _engine.KlDivergence(
                Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), one), TooManyRows);
            Refused<ArgumentException>("destination", () => _engine.JensenShannon(
                Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), Logits.FromPointer((void*)data, TooManyRows, Vocab, ScalarType.Float32), one), TooManyRows);
        }
    }

    [Fact]
    public unsafe void Exactly_int_MaxValue_rows_pass_the_row_limit()
    {
        // The row check passes; the one-target span is what these calls then refuse, still before reading data.
        fixed (float* p = _x)
        {
            nint data = (nint)p;
            var y = new int[1];
            Refused<ArgumentException>("targets", () => _engine.CrossEntropy(Logits.FromPointer((void*)data, int.MaxValue, Vocab, ScalarType.Float32), y), int.MaxValue);
            Refused<ArgumentException>("targets", () => _engine.Evaluate(Logits.FromPointer((void*)data, int.MaxValue, Vocab, ScalarType.Float32), y, new PerplexityAccumulator()), int.MaxValue);
            Refused<ArgumentException>("targets", () => _engine.Compare(
                Logits.FromPointer((void*)data, int.MaxValue, Vocab, ScalarType.Float32), Logits.FromPointer((void*)data, int.MaxValue, Vocab, ScalarType.Float32), new ComparisonAccumulator(), y), int.MaxValue);
        }
    }

    [Fact]
    public unsafe void From_pointer_refuses_row_counts_whose_bytes_overflow_a_64_bit_offset()
    {
        fixed (float* p = _x)
        {
            nint data = (nint)p;
            foreach (var type in Enum.GetValues<ScalarType>())
            {
                long max = long.MaxValue / ((long)Vocab * (type == ScalarType.Float32 ? 4 : 2));
                Assert.Equal(max, Logits.FromPointer((void*)data, max, Vocab, type).Rows);
                Refused<ArgumentOutOfRangeException>("rows", () => Logits.FromPointer((void*)data, max + 1, Vocab, type), type);
                Refused<ArgumentOutOfRangeException>("rows", () => Logits.FromPointer((void*)data, long.MaxValue, Vocab, type), type);
            }

            Assert.Equal(0, Logits.FromPointer(null, 0, Vocab, ScalarType.Float32).Rows);
            Refused<ArgumentOutOfRangeException>("rows", () => Logits.FromPointer((void*)data, -1, Vocab, ScalarType.Float32), -1);
            Refused<ArgumentException>("vocab", () => Logits.FromPointer((void*)data, 1, 0, ScalarType.Float32), 0);
            Refused<ArgumentNullException>("data", () => Logits.FromPointer(null, 1, Vocab, ScalarType.Float32), "null");
        }
    }

    [Fact]
    public void Spans_of_the_wrong_length_name_their_parameter()
    {
        var inPlace = new float[Rows * Vocab + 1];
        Refused<ArgumentException>("logits", () => _engine.CrossEntropyWithGradientInPlace(inPlace, Vocab, _y), inPlace.Length);
        Refused<ArgumentException>("vocab", () => _engine.CrossEntropyWithGradientInPlace(inPlace, 0, _y), 0);
        Refused<ArgumentException>("values", () => Logits.Float32(new float[Vocab + 1], Vocab), Vocab + 1);
        Refused<ArgumentException>("values", () => Logits.Float16(new Half[Vocab + 1], Vocab), Vocab + 1);
        Refused<ArgumentException>("bits", () => Logits.BFloat16(new ushort[Vocab + 1], Vocab), Vocab + 1);

        // Two bytes past a whole float32 row used to be dropped silently.
        Refused<ArgumentException>("bytes", () => Logits.FromBytes(new byte[(Vocab * 4) + 2], Vocab, ScalarType.Float32), (Vocab * 4) + 2);
        Refused<ArgumentException>("bytes", () => Logits.FromBytes(new byte[(Vocab * 2) + 1], Vocab, ScalarType.BFloat16), (Vocab * 2) + 1);
        Refused<ArgumentException>("vocab", () => Logits.FromBytes(new byte[8], 0, ScalarType.Float16), 0);
        Assert.Equal(2, Logits.FromBytes(new byte[Vocab * 2 * 2], Vocab, ScalarType.Float16).Rows);
    }

    [Fact]
    public void Comparison_errors_name_the_parameters_as_declared()
    {
        var data = new TestData(23);
        var p = data.Logits(Rows, Vocab);
        var q = data.Logits(Rows, Vocab);
        var totals = new ComparisonAccumulator();
        var shorter = q.AsSpan(0, (Rows - 1) * Vocab).ToArray();
        Refused<ArgumentException>("testLogits", () => _engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(shorter, Vocab), totals), "shape");
        Refused<ArgumentException>("q", () => _engine.Top1Agreement(Logits.Float32(p, Vocab), Logits.Float32(shorter, Vocab)), "shape");
        Refused<ArgumentException>("q", () => _engine.JensenShannon(Logits.Float32(p, Vocab), Logits.Float32(shorter, Vocab), new float[Rows]), "shape");
        Refused<ArgumentException>("temperature", () => _engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), totals, temperature: 0f), 0f);
        Refused<ArgumentException>("targets", () => _engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), totals, new[] { 1 }), "targets");
        Refused<ArgumentException>("perRow.Kl", () => _engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), totals, perRow: new ComparisonRows { Kl = new float[1] }), "perRow");
        Assert.Equal(0, totals.Tokens);

        var badTest = (float[])q.Clone();
        badTest[Vocab + 2] = float.NaN;
        var e = Assert.Throws<InvalidInputException>(() => _engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(badTest, Vocab), totals));
        Assert.Equal(("testLogits", 1L), (e.ParamName, e.Row));
        var badBase = (float[])p.Clone();
        badBase[(2 * Vocab) + 1] = float.PositiveInfinity;
        e = Assert.Throws<InvalidInputException>(() => _engine.Compare(Logits.Float32(badBase, Vocab), Logits.Float32(q, Vocab), totals));
        Assert.Equal(("baseLogits", 2L), (e.ParamName, e.Row));
        Assert.Contains("+inf", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Values of <typeparamref name="T"/> that name no member: just below and past the defined range, and far out.</summary>
    private static IEnumerable<T> Undefined<T>()
        where T : struct, Enum
    {
        int count = Enum.GetValues<T>().Length;
        foreach (int v in new[] { -1, count, count + 1, 42, 99, int.MinValue, int.MaxValue })
        {
            var value = (T)Enum.ToObject(typeof(T), v);
            Assert.False(Enum.IsDefined(value));
            yield return value;
        }
    }

    private static void Refused<TException>(string paramName, Action call, object? tried)
        where TException : ArgumentException
    {
        var e = Assert.Throws<TException>(call);
        Assert.True(paramName == e.ParamName, $"tried {tried}: expected ParamName '{paramName}', got '{e.ParamName}' ({e.Message})");
    }

    private static void Refused<TException>(string paramName, Func<object?> call, object? tried)
        where TException : ArgumentException =>
        Refused<TException>(paramName, () => { _ = call(); }, tried);

    private static float[] Filled(int length) => Enumerable.Repeat(Untouched, length).ToArray();

    private static void AssertUntouched(float[] values) => Assert.All(values, v => Assert.Equal(Untouched, v));
}
