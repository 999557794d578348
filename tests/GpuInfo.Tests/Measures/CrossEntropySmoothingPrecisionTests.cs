using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Label smoothing's e·Σ_j w_j(lse - z_j)/V where the logits are large: it must be formed as
/// W·log s - Σ w_j(x_j - max)/T, not lse·W - Σ w_j x_j/T with a float32 Σx, which cancels (logits
/// N(0, 2) + 1e4 erred by 2e-5 relative; eight equal logits of 1e30 read 7.6e21 for ln 8), overflows
/// (eight of 3e38 gave -inf) or gives NaN (alternating ±3e38, where PyTorch's float32 gives +inf; float64
/// gives 3e37, beyond float32's reach as lse - z_j = 6e38 overflows). Unweighted and weighted, one
/// slice or split, on every backend.
/// </summary>
public abstract class CrossEntropySmoothingPrecisionTests(EngineFixture fixture)
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var kind in new[] { "offset", "rising", "tie1e30", "tie3e38", "masked" })
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Smoothing_keeps_its_digits_when_the_logits_are_large(string kind, bool weighted)
    {
        var engine = fixture.Engine;
        string device = fixture.Device;
        var data = new TestData();
        int vocab = kind switch { "offset" => 1009, "rising" => 6151, "masked" => 300, _ => 8 };
        const int Rows = 4;
        float[] x = data.Logits(Rows, vocab, scale: 2.0);
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % vocab;
            x[i] = kind switch
            {
                "offset" => x[i] + 1e4f,
                // The max grows block after block: the SIMD path moves its sums to each new max.
                "rising" => x[i] + 1e4f + 0.002f * j,
                "tie1e30" => 1e30f,
                "tie3e38" => 3e38f,
                "masked" => j % 7 == 3 ? float.NegativeInfinity : x[i] + 1e4f,
                _ => x[i],
            };
        }

        float[]? weights = null;
        if (weighted)
        {
            weights = new float[vocab];
            for (int j = 0; j < vocab; j++)
            {
                // Zero weight where masked: 0·(-inf) counts 0 (the library's convention, and Reference64's).
                weights[j] = j % 7 == 3 ? 0f : (float)(0.25 + 1.5 * data.Rng.NextDouble());
            }
        }

        int[] y = [0, 1, vocab - 1, 5];
        // 3e38/T overflows below T = 1: the tie at 3e38 runs hotter instead.
        foreach (float temperature in kind == "tie3e38" ? new[] { 1f, 2f } : new[] { 1f, 0.5f })
        {
            foreach (int splits in new[] { 1, 3 })
            {
                using var _ = splits > 1 ? BackendKnobs.ForceSplits(engine, splits) : null;
                var options = new CrossEntropyOptions
                {
                    LabelSmoothing = 0.1f, ClassWeights = weights, Temperature = temperature, Reduction = Reduction.None,
                };
                var loss = new float[Rows];
                engine.CrossEntropy(Logits.Float32(x, vocab), y, options, loss);
                for (int r = 0; r < Rows; r++)
                {
                    string what = $"{data}: {device} {kind} weighted={weighted} T={temperature} splits={splits} row {r}";
                    if (kind == "masked" && !weighted)
                    {
                        // A -inf logit of nonzero weight: the smoothing term is +inf, as in PyTorch.
                        Assert.True(float.IsPositiveInfinity(loss[r]), $"{what}: {loss[r]}");
                        continue;
                    }

                    double expected = Reference64.CrossEntropy(Reference64.Scaled(x.AsSpan(r * vocab, vocab), temperature), y[r], 0.1, weights, 0);
                    Tolerance.Close(expected, loss[r], 2e-6, 0, what);
                }
            }
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(1000)]
    public void Smoothing_over_logits_a_float32_apart_is_infinite_as_in_PyTorch(int vocab)
    {
        var engine = fixture.Engine;
        string device = fixture.Device;
        var x = new float[vocab];
        for (int j = 0; j < vocab; j++)
        {
            x[j] = j % 2 == 0 ? 3e38f : -3e38f;
        }

        var loss = new float[1];
        engine.CrossEntropy(Logits.Float32(x, vocab), new[] { 0 }, new CrossEntropyOptions { LabelSmoothing = 0.1f, Reduction = Reduction.None }, loss);

        // lse - z_j = 6e38 overflows float32: torch.nn.functional.cross_entropy in float32 gives inf too
        // (float64: 3e37). A raw Σx gave NaN once its partial sums overflowed both ways.
        Assert.True(float.IsPositiveInfinity(loss[0]), $"{device} V={vocab}: {loss[0]}");
    }
}

public sealed class SimdCpuCrossEntropySmoothingPrecisionTests(SimdCpuFixture f) : CrossEntropySmoothingPrecisionTests(f), IClassFixture<SimdCpuFixture>;

public sealed class IlgpuCpuCrossEntropySmoothingPrecisionTests(IlgpuCpuFixture f) : CrossEntropySmoothingPrecisionTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaCrossEntropySmoothingPrecisionTests(CudaFixture f) : CrossEntropySmoothingPrecisionTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClCrossEntropySmoothingPrecisionTests(OpenClFixture f) : CrossEntropySmoothingPrecisionTests(f), IClassFixture<OpenClFixture>;
