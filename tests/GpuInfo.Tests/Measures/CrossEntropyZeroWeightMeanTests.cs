namespace GpuInfo.Tests.Measures;

/// <summary>
/// Mean reduction when Σ w_y over the scored rows is 0 (every scored target has class weight 0):
/// PyTorch gives a NaN loss and a NaN gradient on the scored rows (ignored rows: 0). The gradient used
/// to fall back to the Sum scale and the loss was +inf with label smoothing (NaN without).
/// </summary>
public abstract class CrossEntropyZeroWeightMeanTests(EngineFixture fixture)
{
    [Theory]
    [InlineData(0f, false)]
    [InlineData(0f, true)]
    [InlineData(0.1f, false)]
    [InlineData(0.1f, true)]
    public void Loss_and_gradient_are_NaN_as_in_PyTorch(float smoothing, bool inPlace)
    {
        var engine = fixture.Engine;
        const int Rows = 3, Vocab = 5;
        var x = new float[Rows * Vocab];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 0.3f * (i % 7) - 1f;
        }

        // Class 0 has weight 0 and is the target of both scored rows; row 2 is ignored.
        var options = new CrossEntropyOptions { ClassWeights = [0f, 1f, 1f, 1f, 1f], LabelSmoothing = smoothing };
        int[] y = [0, 0, -100];
        var grad = inPlace ? x : new float[x.Length];
        var result = inPlace
            ? engine.CrossEntropyWithGradientInPlace(x, Vocab, y, options)
            : engine.CrossEntropyWithGradient(Logits.Float32(x, Vocab), y, grad, options);

        Assert.Equal(0, result.WeightSum);
        Assert.True(double.IsNaN(result.Loss), $"loss {result.Loss}");
        for (int k = 0; k < 2 * Vocab; k++)
        {
            Assert.True(float.IsNaN(grad[k]), $"gradient {k}: {grad[k]}");
        }

        for (int k = 2 * Vocab; k < Rows * Vocab; k++)
        {
            Assert.Equal(0f, grad[k]);
        }
    }
}

public sealed class SimdCpuCrossEntropyZeroWeightMeanTests(SimdCpuFixture f) : CrossEntropyZeroWeightMeanTests(f), IClassFixture<SimdCpuFixture>;

public sealed class IlgpuCpuCrossEntropyZeroWeightMeanTests(IlgpuCpuFixture f) : CrossEntropyZeroWeightMeanTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaCrossEntropyZeroWeightMeanTests(CudaFixture f) : CrossEntropyZeroWeightMeanTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClCrossEntropyZeroWeightMeanTests(OpenClFixture f) : CrossEntropyZeroWeightMeanTests(f), IClassFixture<OpenClFixture>;
