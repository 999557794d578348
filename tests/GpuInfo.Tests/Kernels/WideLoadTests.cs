using GpuInfo.Tests.Measures;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The row kernels' wide loads against the float64 reference, per dtype: vocabularies that are not
/// multiples of 4 or 8 (so rows start at every phase of a 16-byte boundary), slices that start
/// anywhere (forced splits), -inf entries, ties inside one 16-byte chunk, and pairs of dtypes whose
/// loads differ in width. Small shapes: ILGPU's CPU accelerator runs every thread.
/// </summary>
public abstract class WideLoadTests(EngineFixture fixture)
{
    private const int Rows = 6;

    protected InfoEngine Engine => fixture.Engine;

    public static TheoryData<int, string> SingleCases => Cases(["f32", "f16", "bf16"]);

    public static TheoryData<int, string> PairCases => Cases(["f32-f32", "bf16-bf16", "f16-f16", "f32-bf16", "f16-f32"]);

    [Theory]
    [MemberData(nameof(SingleCases))]
    public void Single_input_measures_match_float64(int vocab, string dtype) => CheckSingle(Engine, vocab, dtype, [1, 3]);

    [Theory]
    [MemberData(nameof(PairCases))]
    public void Pair_measures_match_float64(int vocab, string dtypes) => CheckPair(Engine, vocab, dtypes, [1, 3]);

    /// <summary>Log-sum-exp, entropy, argmax, weighted cross-entropy with z-loss and its gradient (also in place for float32).</summary>
    internal static void CheckSingle(InfoEngine engine, int vocab, string dtype, int[] splitCounts)
    {
        var data = new TestData();
        var x = Rounded(Logits(data, vocab), dtype);
        var y = new int[Rows];
        for (int r = 0; r < Rows; r++)
        {
            y[r] = r == 1 ? -100 : FiniteColumn(data, x, vocab, r);
        }

        var weights = data.Weights(vocab);
        foreach (int target in y.Where(t => t >= 0))
        {
            weights[target] = Math.Max(weights[target], 0.5f); // a zero weight sum has no mean
        }

        var options = new CrossEntropyOptions { ClassWeights = weights, ZLoss = 1e-3f, Temperature = 1.3f };
        foreach (int splits in splitCounts)
        {
            using var force = BackendKnobs.ForceSplits(engine, splits);
            string where = $"vocab {vocab} {dtype} splits {splits} {data}";
            var lse = Poison.Floats(Rows);
            var entropy = Poison.Floats(Rows);
            var loss = Poison.Floats(Rows);
            var argmax = new int[Rows];
            engine.LogSumExp(As(x, vocab, dtype), lse, 1.3f);
            engine.Evaluate(As(x, vocab, dtype), y, new PerplexityAccumulator(), options,
                new EvaluationRows { Loss = loss, Entropy = entropy, ArgMax = argmax });
            var grad = Poison.Floats(x.Length);
            var result = engine.CrossEntropyWithGradient(As(x, vocab, dtype), y, grad, options);
            for (int r = 0; r < Rows; r++)
            {
                var z = Reference64.Scaled(x.AsSpan(r * vocab, vocab), 1.3);
                Tolerance.Close(Reference64.Lse(z), lse[r], 2e-6, 1e-5, $"lse row {r} {where}");
                Tolerance.Close(Reference64.Entropy(z), entropy[r], 1e-5, 3e-5, $"entropy row {r} {where}");
                Assert.True(Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) == argmax[r], $"argmax row {r} {where}");
                double expected = y[r] == -100 ? 0 : Reference64.CrossEntropy(z, y[r], 0, options.ClassWeights, options.ZLoss);
                Tolerance.Close(expected, loss[r], 1e-5, 3e-5, $"loss row {r} {where}");
                CheckGradient(x, vocab, r, y[r], options, 1.0 / result.WeightSum, grad, where);
            }

            if (dtype == "f32")
            {
                // In place: the gradient's view is the logits' view.
                var inPlace = (float[])x.Clone();
                engine.CrossEntropyWithGradientInPlace(inPlace, vocab, y, options);
                for (int r = 0; r < Rows; r++)
                {
                    CheckGradient(x, vocab, r, y[r], options, 1.0 / result.WeightSum, inPlace, "in place " + where);
                }
            }
        }
    }

    /// <summary>KL both ways, Jensen-Shannon and top-1 agreement.</summary>
    internal static void CheckPair(InfoEngine engine, int vocab, string dtypes, int[] splitCounts)
    {
        var data = new TestData();
        string[] types = dtypes.Split('-');
        var p = Rounded(Logits(data, vocab), types[0]);
        var q = Rounded(data.Perturbed(p, 0.3), types[1]);
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = float.IsNegativeInfinity(p[i]) ? float.NegativeInfinity : q[i]; // same support: finite KL both ways
        }

        foreach (int splits in splitCounts)
        {
            using var force = BackendKnobs.ForceSplits(engine, splits);
            string where = $"vocab {vocab} {dtypes} splits {splits} {data}";
            var kl = Poison.Floats(Rows);
            var reverse = Poison.Floats(Rows);
            var js = Poison.Floats(Rows);
            engine.KlDivergence(As(p, vocab, types[0]), As(q, vocab, types[1]), kl, KlDirection.Forward, 0.9f);
            engine.KlDivergence(As(p, vocab, types[0]), As(q, vocab, types[1]), reverse, KlDirection.Reverse, 0.9f);
            engine.JensenShannon(As(p, vocab, types[0]), As(q, vocab, types[1]), js, 0.9f);
            long same = engine.Top1Agreement(As(p, vocab, types[0]), As(q, vocab, types[1]));
            long expectedSame = 0;
            for (int r = 0; r < Rows; r++)
            {
                var zp = Reference64.Scaled(p.AsSpan(r * vocab, vocab), 0.9);
                var zq = Reference64.Scaled(q.AsSpan(r * vocab, vocab), 0.9);
                Tolerance.Close(Reference64.Kl(zp, zq), kl[r], 2e-5, 5e-6, $"kl row {r} {where}");
                Tolerance.Close(Reference64.Kl(zq, zp), reverse[r], 2e-5, 5e-6, $"reverse kl row {r} {where}");
                Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], 2e-5, 5e-6, $"js row {r} {where}");
                expectedSame += Reference64.ArgMax(p.AsSpan(r * vocab, vocab)) == Reference64.ArgMax(q.AsSpan(r * vocab, vocab)) ? 1 : 0;
            }

            Assert.True(expectedSame == same, $"top-1 agreement {where}");
        }
    }

    private static TheoryData<int, string> Cases(string[] dtypes)
    {
        var cases = new TheoryData<int, string>();
        foreach (int vocab in new[] { 1, 7, 8, 61 })
        {
            foreach (var dtype in dtypes)
            {
                cases.Add(vocab, dtype);
            }
        }

        return cases;
    }

    /// <summary>Logits with -inf entries (never column 0) and, where the row is wide enough, a tie for the max, often inside one chunk.</summary>
    private static float[] Logits(TestData data, int vocab)
    {
        var x = data.Logits(Rows, vocab);
        data.Mask(x, vocab, 0.2);
        for (int r = 0; r < Rows && vocab > 2; r++)
        {
            int a = 1 + data.Rng.Next(vocab - 2);
            x[r * vocab + a] = x[r * vocab + a + 1] = 30f;
        }

        return x;
    }

    private static int FiniteColumn(TestData data, float[] x, int vocab, int r)
    {
        int j;
        do
        {
            j = data.Rng.Next(vocab);
        }
        while (float.IsNegativeInfinity(x[r * vocab + j]));

        return j;
    }

    /// <summary>The values the dtype stores (the reference sees exactly what the kernel reads).</summary>
    private static float[] Rounded(float[] x, string dtype) => dtype switch
    {
        "f16" => x.Select(v => (float)(Half)v).ToArray(),
        "bf16" => x.Select(v => BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(v))).ToArray(),
        _ => x,
    };

    private static Logits As(float[] x, int vocab, string dtype) => dtype switch
    {
        "f16" => GpuInfo.Logits.Float16(x.Select(v => (Half)v).ToArray(), vocab),
        "bf16" => GpuInfo.Logits.BFloat16(x.Select(BFloat16Bits.FromSingle).ToArray(), vocab),
        _ => GpuInfo.Logits.Float32(x, vocab),
    };

    private static void CheckGradient(float[] x, int vocab, int r, int y, CrossEntropyOptions o, double scale, float[] grad, string where)
    {
        var g = grad.AsSpan(r * vocab, vocab);
        if (y == -100)
        {
            Assert.True(g.ToArray().All(v => v == 0f), $"ignored row {r} has a non-zero gradient {where}");
            return;
        }

        var expected = Reference64.Gradient(Reference64.Scaled(x.AsSpan(r * vocab, vocab), o.Temperature), y, o.LabelSmoothing, o.ClassWeights, o.ZLoss, o.Temperature, scale);
        double norm = expected.Max(Math.Abs);
        for (int k = 0; k < vocab; k++)
        {
            Tolerance.Close(expected[k], g[k], 1e-4, Math.Max(1e-6 * norm, float.Epsilon), $"gradient row {r} col {k} {where}");
        }
    }

}

public sealed class IlgpuCpuWideLoadTests(IlgpuCpuFixture f) : WideLoadTests(f), IClassFixture<IlgpuCpuFixture>;

/// <summary>
/// Warps of 32 and groups of 512, where most threads find no chunk in a short row. One case: the
/// CPU accelerator takes seconds a call at this group size (6-8 s for one log-sum-exp of 6 x 61
/// here, as before the wide loads).
/// </summary>
public sealed class IlgpuCpuNvidiaWideLoadTests(IlgpuCpuNvidiaFixture f) : IClassFixture<IlgpuCpuNvidiaFixture>
{
    [Fact]
    public void A_bf16_row_read_by_groups_of_512_matches_float64() => WideLoadTests.CheckSingle(f.Engine, 61, "bf16", [1]);
}

public sealed class CudaWideLoadTests(CudaFixture f) : WideLoadTests(f), IClassFixture<CudaFixture>;
