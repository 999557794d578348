using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Every row measure against the float64 reference, written once and run per backend by thin
/// subclasses (SIMD CPU and ILGPU CPU always; CUDA and OpenCL when present, skipped otherwise).
/// Outputs are poisoned with NaN before each call so an unwritten value cannot pass.
/// </summary>
public abstract class RowMeasureTests(EngineFixture fixture)
{
    // float32 arithmetic against float64: a few ulps of the log-sum-exp scale (~10-20).
    protected const double LseRel = 2e-6, LseAbs = 1e-5;
    protected const double ValueRel = 1e-5, ValueAbs = 3e-5;

    protected InfoEngine Engine => fixture.Engine;

    /// <summary>Shapes with vocab sizes that are not powers of two, sized to the backend's speed.</summary>
    protected abstract Shape[] Shapes { get; }

    /// <summary>A shape with few rows and a wide vocabulary, for the split-vocabulary path.</summary>
    protected abstract Shape Wide { get; }

    [Fact]
    public void LogSumExp_matches_float64()
    {
        foreach (var shape in Shapes)
        {
            foreach (float t in new[] { 1f, 0.7f })
            {
                var data = new TestData();
                var x = data.Logits(shape.Rows, shape.Vocab);
                var got = Poison.Floats(shape.Rows);
                Engine.LogSumExp(Logits.Float32(x, shape.Vocab), got, t);
                for (int r = 0; r < shape.Rows; r++)
                {
                    Tolerance.Close(Reference64.Lse(Reference64.Scaled(Row(x, shape, r), t)), got[r], LseRel, LseAbs, $"lse row {r} {shape} T={t} {data}");
                }
            }
        }
    }

    [Fact]
    public void Entropy_matches_float64()
    {
        foreach (var shape in Shapes)
        {
            var data = new TestData();
            var x = data.Logits(shape.Rows, shape.Vocab);
            var got = Poison.Floats(shape.Rows);
            Engine.Entropy(Logits.Float32(x, shape.Vocab), got, 1.3f);
            for (int r = 0; r < shape.Rows; r++)
            {
                Tolerance.Close(Reference64.Entropy(Reference64.Scaled(Row(x, shape, r), 1.3)), got[r], ValueRel, ValueAbs, $"entropy row {r} {shape} {data}");
            }
        }
    }

    [Fact]
    public void ArgMax_returns_the_first_maximum()
    {
        foreach (var shape in Shapes)
        {
            var data = new TestData();
            var x = data.Logits(shape.Rows, shape.Vocab);
            for (int r = 0; r < shape.Rows; r++)
            {
                // A tie between two columns: the first must win, as torch.argmax.
                int a = data.Rng.Next(shape.Vocab), b = data.Rng.Next(shape.Vocab);
                x[r * shape.Vocab + a] = x[r * shape.Vocab + b] = 1e4f;
            }

            var got = new int[shape.Rows];
            got.AsSpan().Fill(-7);
            Engine.ArgMax(Logits.Float32(x, shape.Vocab), got);
            for (int r = 0; r < shape.Rows; r++)
            {
                Assert.True(Reference64.ArgMax(Row(x, shape, r)) == got[r], $"argmax row {r} {shape} {data}");
            }
        }
    }

    public static TheoryData<float, bool, float, float, Reduction, double> CrossEntropyCases => new()
    {
        { 0f, false, 0f, 1f, Reduction.Mean, 0.0 },
        { 0.1f, false, 0f, 1f, Reduction.Mean, 0.3 },
        { 0f, true, 0f, 1f, Reduction.Mean, 0.2 },
        { 0.2f, true, 0f, 1f, Reduction.Sum, 0.0 },
        { 0f, false, 1e-4f, 1f, Reduction.None, 0.1 },
        { 0.05f, true, 1e-3f, 1.7f, Reduction.Mean, 0.25 },
        { 0f, false, 0f, 0.5f, Reduction.Sum, 0.5 },
    };

    [Theory]
    [MemberData(nameof(CrossEntropyCases))]
    public void CrossEntropy_matches_PyTorch_semantics_in_float64(float smoothing, bool weighted, float zloss, float t,
        Reduction reduction, double ignored)
    {
        foreach (var shape in Shapes)
        {
            var data = new TestData();
            var x = data.Logits(shape.Rows, shape.Vocab);
            var y = data.Targets(shape.Rows, shape.Vocab, ignored);
            var options = Options(data, shape, smoothing, weighted, zloss, t, reduction);
            var perRow = Poison.Floats(shape.Rows);
            var result = Engine.CrossEntropy(Logits.Float32(x, shape.Vocab), y, options, perRow);
            var (expected, sum, wsum) = ReferenceCe(x, shape, y, options);
            for (int r = 0; r < shape.Rows; r++)
            {
                Tolerance.Close(expected[r], perRow[r], ValueRel, ValueAbs, $"loss row {r} {shape} {data}");
            }

            // PyTorch's mean over a zero weight sum is NaN, even when label smoothing makes the sum positive.
            double reduced = reduction != Reduction.Mean ? sum : wsum == 0 ? double.NaN : sum / wsum;
            Tolerance.Close(reduced, result.Loss, 2e-5, ValueAbs, $"reduced loss {shape} {data}");
            Assert.Equal(y.Count(v => v != -100), result.ScoredRows);
        }
    }

    [Theory]
    [InlineData(0f, false, 0f, 1f, Reduction.Mean)]
    [InlineData(0.1f, true, 1e-3f, 1.5f, Reduction.Mean)]
    [InlineData(0.1f, false, 1e-4f, 0.8f, Reduction.Sum)]
    [InlineData(0f, true, 0f, 1f, Reduction.None)]
    public void Gradient_matches_float64(float smoothing, bool weighted, float zloss, float t, Reduction reduction)
    {
        var shape = Shapes[0];
        var data = new TestData();
        var x = data.Logits(shape.Rows, shape.Vocab);
        var y = data.Targets(shape.Rows, shape.Vocab, 0.2);
        var options = Options(data, shape, smoothing, weighted, zloss, t, reduction);
        var grad = Poison.Floats(x.Length);
        var result = Engine.CrossEntropyWithGradient(Logits.Float32(x, shape.Vocab), y, grad, options);
        CheckGradient(x, shape, y, options, result, grad, data);

        // In place over the logits gives the same numbers (accelerators may sum in another order: last digits).
        var inPlace = (float[])x.Clone();
        Engine.CrossEntropyWithGradientInPlace(inPlace, shape.Vocab, y, options);
        float scale = grad.Where(float.IsFinite).DefaultIfEmpty(0f).Max(MathF.Abs);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(inPlace[i].Equals(grad[i]) || Math.Abs(inPlace[i] - grad[i]) <= 1e-5 * scale, $"in-place gradient {i}: {inPlace[i]} vs {grad[i]} {data}");
        }
    }

    [Fact]
    public void Kl_both_directions_match_float64()
    {
        foreach (var shape in Shapes)
        {
            foreach (double noise in new[] { 0.0, 0.05, 1.0 })
            {
                var data = new TestData();
                var p = data.Logits(shape.Rows, shape.Vocab);
                var q = noise == 0 ? data.Logits(shape.Rows, shape.Vocab) : data.Perturbed(p, noise);
                var forward = Poison.Floats(shape.Rows);
                var reverse = Poison.Floats(shape.Rows);
                Engine.KlDivergence(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), forward, KlDirection.Forward, 1.1f);
                Engine.KlDivergence(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), reverse, KlDirection.Reverse, 1.1f);
                for (int r = 0; r < shape.Rows; r++)
                {
                    var zp = Reference64.Scaled(Row(p, shape, r), 1.1);
                    var zq = Reference64.Scaled(Row(q, shape, r), 1.1);
                    Tolerance.Close(Reference64.Kl(zp, zq), forward[r], KlRel, KlAbs, $"kl row {r} noise {noise} {shape} {data}");
                    Tolerance.Close(Reference64.Kl(zq, zp), reverse[r], KlRel, KlAbs, $"reverse kl row {r} noise {noise} {shape} {data}");
                }
            }
        }
    }

    [Fact]
    public void Kl_keeps_its_relative_accuracy_for_nearly_equal_distributions()
    {
        // KL ≈ 1e-8 to 1e-6 per row: the classic Σp(zp-zq) - (lse_p - lse_q) in float32 errs by ~1e-7
        // absolute (20% and more). The curvature form's floor is ~2e-12 absolute (float32 sums over the row).
        var shape = Shapes[0];
        var data = new TestData();
        var p = data.Logits(shape.Rows, shape.Vocab);
        var q = data.Perturbed(p, 1e-3);
        var kl = Poison.Floats(shape.Rows);
        var js = Poison.Floats(shape.Rows);
        Engine.KlDivergence(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), kl);
        Engine.JensenShannon(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), js);
        for (int r = 0; r < shape.Rows; r++)
        {
            var zp = Reference64.Scaled(Row(p, shape, r), 1);
            var zq = Reference64.Scaled(Row(q, shape, r), 1);
            Tolerance.Close(Reference64.Kl(zp, zq), kl[r], 1e-4, 5e-12, $"tiny kl row {r} {data}");
            Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], 1e-4, 5e-12, $"tiny js row {r} {data}");
        }
    }

    [Fact]
    public void JensenShannon_matches_float64()
    {
        foreach (var shape in Shapes)
        {
            foreach (double noise in new[] { 0.0, 0.05, 1.0 })
            {
                var data = new TestData();
                var p = data.Logits(shape.Rows, shape.Vocab);
                var q = noise == 0 ? data.Logits(shape.Rows, shape.Vocab) : data.Perturbed(p, noise);
                data.Mask(q, shape.Vocab, 0.01);
                var js = Poison.Floats(shape.Rows);
                Engine.JensenShannon(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), js);
                for (int r = 0; r < shape.Rows; r++)
                {
                    double expected = Reference64.JensenShannon(Reference64.Scaled(Row(p, shape, r), 1), Reference64.Scaled(Row(q, shape, r), 1));
                    Tolerance.Close(expected, js[r], KlRel, KlAbs, $"js row {r} noise {noise} {shape} {data}");
                    Assert.InRange(js[r], -1e-6, Math.Log(2) + 1e-6);
                }
            }
        }
    }

    [Fact]
    public void Top1Agreement_counts_equal_argmaxes()
    {
        var shape = Shapes[0];
        var data = new TestData();
        var p = data.Logits(shape.Rows, shape.Vocab);
        var q = data.Perturbed(p, 0.5);
        long expected = Enumerable.Range(0, shape.Rows).Count(r => Reference64.ArgMax(Row(p, shape, r)) == Reference64.ArgMax(Row(q, shape, r)));
        Assert.Equal(expected, Engine.Top1Agreement(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab)));
    }

    [Fact]
    public void Evaluate_totals_match_float64()
    {
        var shape = Shapes[0];
        var data = new TestData();
        var x = data.Logits(shape.Rows, shape.Vocab);
        var y = data.Targets(shape.Rows, shape.Vocab, 0.25);
        var totals = new PerplexityAccumulator();
        Engine.Evaluate(Logits.Float32(x, shape.Vocab), y, totals);
        double nll = 0, entropy = 0;
        long hits = 0, tokens = 0;
        for (int r = 0; r < shape.Rows; r++)
        {
            if (y[r] == -100)
            {
                continue;
            }

            var z = Reference64.Scaled(Row(x, shape, r), 1);
            tokens++;
            nll += Reference64.CrossEntropy(z, y[r], 0, null, 0);
            entropy += Reference64.Entropy(z);
            hits += Reference64.ArgMax(Row(x, shape, r)) == y[r] ? 1 : 0;
        }

        Assert.Equal(tokens, totals.Tokens);
        Assert.Equal(shape.Rows - tokens, totals.Ignored);
        Assert.Equal(hits, totals.Top1Hits);
        Tolerance.Close(nll / tokens, totals.MeanNll, 2e-5, 0, $"mean nll {data}");
        Tolerance.Close(Math.Exp(nll / tokens), totals.Perplexity, 2e-5, 0, $"perplexity {data}");
        Tolerance.Close(nll / tokens / Math.Log(2), totals.BitsPerToken, 2e-5, 0, $"bits per token {data}");
        Tolerance.Close(entropy / tokens, totals.MeanEntropy, 2e-5, 0, $"mean entropy {data}");
    }

    [Fact]
    public void Compare_totals_match_float64()
    {
        var shape = Shapes[0];
        var data = new TestData();
        var p = data.Logits(shape.Rows, shape.Vocab);
        var q = data.Perturbed(p, 0.1);
        var y = data.Targets(shape.Rows, shape.Vocab, 0.2);
        var totals = new ComparisonAccumulator();
        Engine.Compare(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), totals, y);
        double kl = 0, js = 0, nllP = 0, nllQ = 0, dp = 0, dp2 = 0;
        long same = 0, tokens = 0;
        for (int r = 0; r < shape.Rows; r++)
        {
            if (y[r] == -100)
            {
                continue;
            }

            var zp = Reference64.Scaled(Row(p, shape, r), 1);
            var zq = Reference64.Scaled(Row(q, shape, r), 1);
            tokens++;
            kl += Reference64.Kl(zp, zq);
            js += Reference64.JensenShannon(zp, zq);
            same += Reference64.ArgMax(Row(p, shape, r)) == Reference64.ArgMax(Row(q, shape, r)) ? 1 : 0;
            double a = Reference64.CrossEntropy(zp, y[r], 0, null, 0), b = Reference64.CrossEntropy(zq, y[r], 0, null, 0);
            nllP += a;
            nllQ += b;
            double d = Math.Exp(-b) - Math.Exp(-a);
            dp += d;
            dp2 += d * d;
        }

        Assert.Equal(tokens, totals.Tokens);
        Assert.Equal(same, totals.SameTop1);
        Tolerance.Close(kl / tokens, totals.MeanKl, 2e-5, 1e-8, $"mean kl {data}");
        Tolerance.Close(js / tokens, totals.MeanJs, 2e-5, 1e-8, $"mean js {data}");
        Tolerance.Close(Math.Exp(nllP / tokens), totals.PerplexityBase, 2e-5, 0, $"ppl base {data}");
        Tolerance.Close(Math.Exp(nllQ / tokens), totals.PerplexityTest, 2e-5, 0, $"ppl test {data}");
        Tolerance.Close(dp / tokens, totals.MeanDeltaP, 2e-5, 1e-8, $"mean delta p {data}");
        Tolerance.Close(Math.Sqrt(dp2 / tokens), totals.RmsDeltaP, 2e-5, 1e-8, $"rms delta p {data}");
    }

    [Fact]
    public void Half_and_bfloat16_inputs_match_float64_of_their_values()
    {
        var shape = Shapes[0];
        var data = new TestData();
        var x = data.Logits(shape.Rows, shape.Vocab);
        var xq = data.Perturbed(x, 0.1);
        var halves = x.Select(v => (Half)v).ToArray();
        var bf16 = xq.Select(BFloat16Bits.FromSingle).ToArray();
        var fromHalf = halves.Select(h => (float)h).ToArray();
        var fromBf16 = bf16.Select(BFloat16Bits.ToSingle).ToArray();
        var y = data.Targets(shape.Rows, shape.Vocab, 0.1);

        var lossH = Poison.Floats(shape.Rows);
        var lossB = Poison.Floats(shape.Rows);
        var options = new CrossEntropyOptions { LabelSmoothing = 0.1f };
        Engine.CrossEntropy(Logits.Float16(halves, shape.Vocab), y, options, lossH);
        Engine.CrossEntropy(Logits.BFloat16(bf16, shape.Vocab), y, options, lossB);
        var (expectedH, _, _) = ReferenceCe(fromHalf, shape, y, options);
        var (expectedB, _, _) = ReferenceCe(fromBf16, shape, y, options);
        var kl = Poison.Floats(shape.Rows);
        var js = Poison.Floats(shape.Rows);
        Engine.KlDivergence(Logits.Float16(halves, shape.Vocab), Logits.BFloat16(bf16, shape.Vocab), kl);
        Engine.JensenShannon(Logits.Float16(halves, shape.Vocab), Logits.BFloat16(bf16, shape.Vocab), js);
        var gradH = Poison.Floats(x.Length);
        var gradResult = Engine.CrossEntropyWithGradient(Logits.Float16(halves, shape.Vocab), y, gradH, options);
        for (int r = 0; r < shape.Rows; r++)
        {
            Tolerance.Close(expectedH[r], lossH[r], ValueRel, ValueAbs, $"fp16 loss row {r} {data}");
            Tolerance.Close(expectedB[r], lossB[r], ValueRel, ValueAbs, $"bf16 loss row {r} {data}");
            var zp = Reference64.Scaled(Row(fromHalf, shape, r), 1);
            var zq = Reference64.Scaled(Row(fromBf16, shape, r), 1);
            Tolerance.Close(Reference64.Kl(zp, zq), kl[r], KlRel, KlAbs, $"fp16-vs-bf16 kl row {r} {data}");
            Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], KlRel, KlAbs, $"fp16-vs-bf16 js row {r} {data}");
        }

        CheckGradient(fromHalf, shape, y, options, gradResult, gradH, data);
    }

    /// <summary>
    /// Rows whose max holds nearly all the mass, its target: the NLL and entropy are about the tail's
    /// mass (1e-9 to 1e-1 here), which float32 loses when it adds the tail onto the max's 1 (the SIMD
    /// path read 1e4 times a 1e-10 NLL, the kernels 0). Every shape, the split-vocabulary one included.
    /// </summary>
    [Fact]
    public void Confident_rows_keep_the_relative_accuracy_of_their_small_nll_and_entropy()
    {
        const double Rel = 1e-4;
        foreach (var shape in Shapes.Append(Wide))
        {
            var data = new TestData();
            var (x, y) = ConfidentRows(data, shape, 1e-9, 1e-1);
            var loss = Poison.Floats(shape.Rows);
            var entropy = Poison.Floats(shape.Rows);
            Engine.CrossEntropy(Logits.Float32(x, shape.Vocab), y, new CrossEntropyOptions { Reduction = Reduction.None }, loss);
            Engine.Entropy(Logits.Float32(x, shape.Vocab), entropy);
            for (int r = 0; r < shape.Rows; r++)
            {
                var z = Reference64.Scaled(Row(x, shape, r), 1);
                Tolerance.Close(Reference64.CrossEntropy(z, y[r], 0, null, 0), loss[r], Rel, 0, $"nll row {r} {shape} {data}");
                Tolerance.Close(Reference64.Entropy(z), entropy[r], Rel, 0, $"entropy row {r} {shape} {data}");
            }

            // The pair pass's own NLLs of both inputs (their sums: every row's tail is below 1e-5).
            (x, y) = ConfidentRows(data, shape, 1e-9, 1e-5);
            var q = data.Perturbed(x, 0.01);
            var totals = new ComparisonAccumulator();
            Engine.Compare(Logits.Float32(x, shape.Vocab), Logits.Float32(q, shape.Vocab), totals, y);
            double nllP = 0, nllQ = 0;
            for (int r = 0; r < shape.Rows; r++)
            {
                nllP += Reference64.CrossEntropy(Reference64.Scaled(Row(x, shape, r), 1), y[r], 0, null, 0);
                nllQ += Reference64.CrossEntropy(Reference64.Scaled(Row(q, shape, r), 1), y[r], 0, null, 0);
            }

            Tolerance.Close(nllP, totals.NllSumBase, Rel, 0, $"pair nll base {shape} {data}");
            Tolerance.Close(nllQ, totals.NllSumTest, Rel, 0, $"pair nll test {shape} {data}");
        }
    }

    /// <summary>N(0, 1) logits with one entry per row (the target, at a random column) raised so that the rest's mass spans [lo, hi] over the rows.</summary>
    private static (float[] X, int[] Y) ConfidentRows(TestData data, Shape shape, double lo, double hi)
    {
        var x = data.Logits(shape.Rows, shape.Vocab, scale: 1.0);
        var y = new int[shape.Rows];
        for (int r = 0; r < shape.Rows; r++)
        {
            double tail = lo * Math.Pow(hi / lo, shape.Rows == 1 ? 0 : (double)r / (shape.Rows - 1));
            y[r] = data.Rng.Next(shape.Vocab);
            x[r * shape.Vocab + y[r]] = (float)Math.Log((shape.Vocab - 1) * Math.Exp(0.5) / tail);
        }

        return (x, y);
    }

    [Fact]
    public void Split_vocabulary_path_matches_float64()
    {
        var shape = Wide;
        var data = new TestData();
        var p = data.Logits(shape.Rows, shape.Vocab);
        var q = data.Perturbed(p, 0.2);
        data.Mask(p, shape.Vocab, 0.02);
        var y = data.Targets(shape.Rows, shape.Vocab, 0.0);
        foreach (int splits in new[] { 3, 7 })
        {
            using var force = BackendKnobs.ForceSplits(Engine, splits);
            var totals = new PerplexityAccumulator();
            var loss = Poison.Floats(shape.Rows);
            var entropy = Poison.Floats(shape.Rows);
            var argmax = new int[shape.Rows];
            var options = new CrossEntropyOptions { ZLoss = 1e-4f };
            Engine.Evaluate(Logits.Float32(p, shape.Vocab), y, totals, options, new EvaluationRows { Loss = loss, Entropy = entropy, ArgMax = argmax });
            var kl = Poison.Floats(shape.Rows);
            var js = Poison.Floats(shape.Rows);
            Engine.KlDivergence(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), kl);
            Engine.JensenShannon(Logits.Float32(p, shape.Vocab), Logits.Float32(q, shape.Vocab), js);
            var grad = Poison.Floats(p.Length);
            var result = Engine.CrossEntropyWithGradient(Logits.Float32(p, shape.Vocab), y, grad, options);
            var (expected, _, _) = ReferenceCe(p, shape, y, options);
            for (int r = 0; r < shape.Rows; r++)
            {
                var zp = Reference64.Scaled(Row(p, shape, r), 1);
                var zq = Reference64.Scaled(Row(q, shape, r), 1);
                string where = $"row {r} splits {splits} {data}";
                Tolerance.Close(expected[r], loss[r], ValueRel, ValueAbs, "loss " + where);
                Tolerance.Close(Reference64.Entropy(zp), entropy[r], ValueRel, ValueAbs, "entropy " + where);
                Assert.True(Reference64.ArgMax(Row(p, shape, r)) == argmax[r], "argmax " + where);
                Tolerance.Close(Reference64.Kl(zp, zq), kl[r], KlRel, KlAbs, "kl " + where);
                Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], KlRel, KlAbs, "js " + where);
            }

            CheckGradient(p, shape, y, options, result, grad, data);
        }
    }

    /// <summary>
    /// Per-row KL/JS slack. For distributions far apart but with a small KL (a peaked row, heavy
    /// noise), KL is a cancellation of two O(1) sums whose float32 accumulation carries ~1e-6
    /// relative error: an absolute floor of a few 1e-6. Nearly equal distributions are held to a
    /// relative bound instead (Kl_keeps_its_relative_accuracy_for_nearly_equal_distributions).
    /// </summary>
    protected const double KlRel = 2e-5, KlAbs = 5e-6;

    protected static ReadOnlySpan<float> Row(float[] x, Shape shape, int r) => x.AsSpan(r * shape.Vocab, shape.Vocab);

    protected static CrossEntropyOptions Options(TestData data, Shape shape, float smoothing, bool weighted, float zloss, float t, Reduction reduction) => new()
    {
        LabelSmoothing = smoothing,
        ClassWeights = weighted ? data.Weights(shape.Vocab) : null,
        ZLoss = zloss,
        Temperature = t,
        Reduction = reduction,
    };

    /// <summary>Per-row float64 loss (0 for ignored rows), its sum and Σ w_y.</summary>
    protected static (double[] PerRow, double Sum, double WeightSum) ReferenceCe(float[] x, Shape shape, int[] y, CrossEntropyOptions o)
    {
        var loss = new double[shape.Rows];
        double sum = 0, wsum = 0;
        for (int r = 0; r < shape.Rows; r++)
        {
            if (y[r] == o.IgnoreIndex)
            {
                continue;
            }

            loss[r] = Reference64.CrossEntropy(Reference64.Scaled(Row(x, shape, r), o.Temperature), y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss);
            sum += loss[r];
            wsum += o.ClassWeights?[y[r]] ?? 1.0;
        }

        return (loss, sum, wsum);
    }

    protected static void CheckGradient(float[] x, Shape shape, int[] y, CrossEntropyOptions o, CrossEntropyResult result, float[] grad, TestData data)
    {
        var (_, _, wsum) = ReferenceCe(x, shape, y, o);
        Tolerance.Close(wsum, result.WeightSum, 1e-6, 0, $"weight sum {data}");
        double scale = o.Reduction == Reduction.Mean ? 1.0 / wsum : 1.0;
        for (int r = 0; r < shape.Rows; r++)
        {
            var g = grad.AsSpan(r * shape.Vocab, shape.Vocab);
            if (y[r] == o.IgnoreIndex)
            {
                Assert.True(g.ToArray().All(v => v == 0f), $"ignored row {r} has a non-zero gradient {data}");
                continue;
            }

            if (o.Reduction == Reduction.Mean && wsum == 0)
            {
                // PyTorch: a mean over a zero weight sum has a NaN gradient on every scored row.
                Assert.True(g.ToArray().All(float.IsNaN), $"row {r}: zero weight sum, expected a NaN gradient {data}");
                continue;
            }

            var expected = Reference64.Gradient(Reference64.Scaled(Row(x, shape, r), o.Temperature), y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss, o.Temperature, scale);
            double norm = expected.Max(Math.Abs);
            for (int k = 0; k < shape.Vocab; k++)
            {
                Tolerance.Close(expected[k], g[k], 1e-4, Math.Max(1e-6 * norm, float.Epsilon), $"gradient row {r} col {k} {data}");
            }
        }
    }
}
