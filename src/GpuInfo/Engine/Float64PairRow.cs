using GpuInfo.Backends.Cpu;
using GpuInfo.Kernels;

namespace GpuInfo;

/// <summary>
/// One row of a two-input pass in float64, for the rows the float32 pass cannot form: valid rows
/// whose logits lie so far apart that their float32 differences lose the answer (a row shifted by
/// 1e6 read KL 0 for 2.3e-4) or overflow (all 3.4e38 against all −3.4e38 gave NaN, which then
/// stopped <c>compare</c>). Same definitions as the pass: p = softmax(x_p/T),
/// q = softmax(x_q/T), KL(p||q), KL(q||p), JS, TV, H(p), −log p(y), −log q(y), log q(y) − log p(y),
/// and the pass's rule for an entry one side masks (<see cref="SoftmaxAccumulator.OtherMasksMass"/>):
/// KL from the other side is infinite where that side's log-probability there is at least
/// <see cref="KlMath.MaskedMassFloor"/> (ln 2^-149), and the entry counts as probability 0 below.
/// </summary>
internal static class Float64PairRow
{
    public static (double Kl, double ReverseKl, double Js, double Tv, double EntropyP, double NllP, double NllQ, double LogRatio) Compute(
        ReadOnlySpan<float> p, ReadOnlySpan<float> q, float temperature, int target)
    {
        double inverseT = 1.0 / temperature;
        var (logP, logQ) = (LogSoftmax(p, inverseT), LogSoftmax(q, inverseT));
        double kl = 0, reverse = 0, js = 0, tv = 0, entropy = 0;
        for (int j = 0; j < p.Length; j++)
        {
            double a = Math.Exp(logP[j]), b = Math.Exp(logQ[j]);
            kl += float.IsNegativeInfinity(q[j]) ? Masked(logP[j]) : a > 0 ? a * (logP[j] - logQ[j]) : 0;
            reverse += float.IsNegativeInfinity(p[j]) ? Masked(logQ[j]) : b > 0 ? b * (logQ[j] - logP[j]) : 0;

            // log m in log space: (a + b)/2 of two subnormals rounds (to 0 for the least, making a/m
            // infinite), which rows taken here, far apart at a low temperature, do reach.
            double logM = LogMean(logP[j], logQ[j]);
            js += (a > 0 ? 0.5 * a * (logP[j] - logM) : 0) + (b > 0 ? 0.5 * b * (logQ[j] - logM) : 0);
            tv += 0.5 * Math.Abs(a - b);
            entropy -= a > 0 ? a * logP[j] : 0;
        }

        return target < 0
            ? (kl, reverse, js, tv, entropy, double.NaN, double.NaN, double.NaN)
            : (kl, reverse, js, tv, entropy, -logP[target], -logQ[target], logQ[target] - logP[target]);
    }

    /// <summary>The KL term of an entry the other side masks: +∞ where this side's log-probability is at least ln 2^-149, else 0.</summary>
    private static double Masked(double logProbability) =>
        logProbability >= KlMath.MaskedMassFloor ? double.PositiveInfinity : 0;

    /// <summary>log((e^x + e^y)/2), exact where either is -inf.</summary>
    private static double LogMean(double x, double y)
    {
        double high = Math.Max(x, y);
        return double.IsNegativeInfinity(high) ? high : high + Math.Log(0.5 * (1 + Math.Exp(Math.Min(x, y) - high)));
    }

    /// <summary>Row <paramref name="row"/> of <paramref name="view"/> as float32.</summary>
    public static float[] Load(in RowsView view, long row)
    {
        var values = new float[view.Vocab];
        BlockLoader.LoadRow(view, row, values);
        return values;
    }

    private static double[] LogSoftmax(ReadOnlySpan<float> x, double inverseT)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x)
        {
            max = Math.Max(max, v);
        }

        // The difference first, in raw units: (x - max)/T; -inf entries are probability 0.
        var log = new double[x.Length];
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            log[j] = ((double)x[j] - max) * inverseT;
            sum += Math.Exp(log[j]);
        }

        double logSum = Math.Log(sum);
        for (int j = 0; j < x.Length; j++)
        {
            log[j] -= logSum;
        }

        return log;
    }
}
