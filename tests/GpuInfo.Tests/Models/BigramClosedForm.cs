namespace GpuInfo.Tests.Models;

/// <summary>
/// bigram.onnx in closed form: its logits after token i are table[i, j] = float32(3 sin(0.37 i + 1.3 j)
/// + ((7 i + 13 j) mod 17) / 5 − 0.004 j) (make_models.py, bigram_table), and its log-likelihood of
/// a text is a sum over consecutive pairs, in float64, whatever the windows.
/// </summary>
internal static class BigramClosedForm
{
    public static double Logit(int i, int j) => (float)((3.0 * Math.Sin((0.37 * i) + (1.3 * j))) + (((7 * i) + (13 * j)) % 17 / 5.0) - (0.004 * j));

    /// <summary>−log p(next | previous) under softmax(logits / T), in float64.</summary>
    public static double Nll(int previous, int next, int vocab, double temperature = 1)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < vocab; j++)
        {
            max = Math.Max(max, Logit(previous, j) / temperature);
        }

        double sum = 0;
        for (int j = 0; j < vocab; j++)
        {
            sum += Math.Exp((Logit(previous, j) / temperature) - max);
        }

        return max + Math.Log(sum) - (Logit(previous, next) / temperature);
    }

    /// <summary>Σ NLL over the tokens the windows score: with stride &lt; context every token after the first; with stride = context all but each window's first.</summary>
    public static (double Sum, long Count) Total(int[] ids, int context, int stride, int vocab, double temperature = 1)
    {
        double sum = 0;
        long count = 0;
        for (int t = 1; t < ids.Length; t++)
        {
            bool windowStart = stride == context && t % context == 0;
            if (!windowStart)
            {
                sum += Nll(ids[t - 1], ids[t], vocab, temperature);
                count++;
            }
        }

        return (sum, count);
    }
}
