using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The cross-entropy gradient where |lse| is large (logits offset by 1e4, T = 1e-3, a four-way tie at
/// 1e30): softmax must come from (x - max)/T - log s, not x/T - lse, whose float32 rounding loses log s
/// (the old form erred by 2e-4 relative at offset 1e4 and T = 1e-3, and read p = 1 for the tie).
/// On every backend.
/// </summary>
public abstract class CrossEntropyGradientPrecisionTests(EngineFixture fixture)
{
    [Theory]
    [InlineData("offset")]
    [InlineData("cold")]
    [InlineData("tie")]
    public void Gradient_keeps_its_digits_when_the_log_sum_exp_is_large(string kind) => Check(kind, new TestData());

    /// <summary>
    /// A seed whose row 2 has its target 0.72 above every other logit: at T = 1e-3 its whole gradient is about 1e-312 in
    /// float64, which float32 holds as 0 (the test failed there when its absolute tolerance scaled with the row's norm alone).
    /// </summary>
    [Fact]
    public void A_gradient_below_float32s_range_reads_as_zero() => Check("cold", new TestData(1013595705));

    private void Check(string kind, TestData data)
    {
        var engine = fixture.Engine;
        string device = fixture.Device;
        const int Rows = 4, Vocab = 257;
        float[] x = kind == "tie" ? new float[Rows * Vocab] : data.Logits(Rows, Vocab, scale: 2.0);
        float temperature = kind == "cold" ? 1e-3f : 1f;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = kind switch
            {
                "offset" => x[i] + 1e4f,
                "tie" => i % Vocab < 4 ? 1e30f : -1e30f,
                _ => x[i],
            };
        }

        int[] y = [5, 0, 100, 256];
        foreach (float smoothing in new[] { 0f, 0.1f })
        {
            var options = new CrossEntropyOptions { LabelSmoothing = smoothing, Temperature = temperature };
            var grad = new float[x.Length];
            var result = engine.CrossEntropyWithGradient(Logits.Float32(x, Vocab), y, grad, options);
            for (int r = 0; r < Rows; r++)
            {
                var expected = Reference64.Gradient(Reference64.Scaled(x.AsSpan(r * Vocab, Vocab), temperature), y[r], smoothing, null, 0,
                    temperature, 1.0 / result.WeightSum);
                // The gradient is float32: below its smallest subnormal a value reads as 0, however small the row's norm.
                double norm = expected.Max(Math.Abs);
                for (int k = 0; k < Vocab; k++)
                {
                    Tolerance.Close(expected[k], grad[r * Vocab + k], 1e-4, Math.Max(1e-6 * norm, float.Epsilon), $"{data}: {device} {kind} e={smoothing} gradient row {r} col {k}");
                }
            }
        }
    }
}

public sealed class SimdCpuCrossEntropyGradientPrecisionTests(SimdCpuFixture f) : CrossEntropyGradientPrecisionTests(f), IClassFixture<SimdCpuFixture>;

public sealed class IlgpuCpuCrossEntropyGradientPrecisionTests(IlgpuCpuFixture f) : CrossEntropyGradientPrecisionTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaCrossEntropyGradientPrecisionTests(CudaFixture f) : CrossEntropyGradientPrecisionTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClCrossEntropyGradientPrecisionTests(OpenClFixture f) : CrossEntropyGradientPrecisionTests(f), IClassFixture<OpenClFixture>;
