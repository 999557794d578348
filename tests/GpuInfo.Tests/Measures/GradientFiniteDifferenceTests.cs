using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The cross-entropy gradient against central finite differences of the float64 reduced loss
/// (PyTorch's definition plus z-loss and temperature), for every option, on the SIMD path and on the
/// kernels (ILGPU CPU accelerator).
/// </summary>
public sealed class GradientFiniteDifferenceTests
{
    private const int Rows = 4, Vocab = 37;

    public static TheoryData<string, float, bool, float, float, Reduction> Cases()
    {
        var data = new TheoryData<string, float, bool, float, float, Reduction>();
        foreach (var device in new[] { "cpu", "ilgpu-cpu" })
        {
            data.Add(device, 0f, false, 0f, 1f, Reduction.Mean);
            data.Add(device, 0.1f, true, 1e-3f, 1.3f, Reduction.Mean);
            data.Add(device, 0.2f, false, 1e-2f, 0.7f, Reduction.Sum);
            data.Add(device, 0f, true, 0f, 1f, Reduction.None);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_matches_finite_differences_of_the_float64_loss(string device, float smoothing, bool weighted, float zloss, float t, Reduction reduction)
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var data = new TestData(31);
        var x = data.Logits(Rows, Vocab, scale: 1.5);
        var y = data.Targets(Rows, Vocab, 0.25);
        y[0] = 3;
        var options = new CrossEntropyOptions
        {
            LabelSmoothing = smoothing,
            ClassWeights = weighted ? data.Weights(Vocab) : null,
            ZLoss = zloss,
            Temperature = t,
            Reduction = reduction,
        };
        var grad = new float[x.Length];
        engine.CrossEntropyWithGradient(Logits.Float32(x, Vocab), y, grad, options);
        var point = x.Select(v => (double)v).ToArray();
        const double h = 1e-5;
        for (int i = 0; i < point.Length; i++)
        {
            double saved = point[i];
            point[i] = saved + h;
            double up = Loss(point, y, options);
            point[i] = saved - h;
            double down = Loss(point, y, options);
            point[i] = saved;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(grad[i] - numeric) <= 2e-5 + 1e-4 * Math.Abs(numeric), $"d loss / d x[{i}]: engine {grad[i]}, finite difference {numeric}");
        }
    }

    /// <summary>The reduced loss (for None: the sum, whose gradient the engine returns) in float64.</summary>
    private static double Loss(double[] x, int[] y, CrossEntropyOptions o)
    {
        double sum = 0, weights = 0;
        for (int r = 0; r < Rows; r++)
        {
            if (y[r] == o.IgnoreIndex)
            {
                continue;
            }

            var z = x.AsSpan(r * Vocab, Vocab).ToArray().Select(v => v / o.Temperature).ToArray();
            sum += Reference64.CrossEntropy(z, y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss);
            weights += o.ClassWeights?[y[r]] ?? 1.0;
        }

        return o.Reduction == Reduction.Mean ? sum / weights : sum;
    }
}
