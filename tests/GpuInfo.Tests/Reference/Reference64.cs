namespace GpuInfo.Tests.Reference;

/// <summary>
/// Straightforward float64 definitions of every row measure (two passes, no tricks), the yardstick
/// every backend is held to. Conventions: 0·log 0 = 0, and 0·(-inf) = 0 for zero class weights.
/// </summary>
public static class Reference64
{
    public static double Lse(ReadOnlySpan<double> z)
    {
        var (m, logS) = MaxAndLogSum(z);
        return m + logS;
    }

    /// <summary>
    /// log p_j = (z_j - max) - log Σ e^{z - max}: never forms max + log s, which would lose log s
    /// next to a huge max (1e30 + log V == 1e30 even in float64).
    /// </summary>
    public static double[] LogSoftmax(ReadOnlySpan<double> z)
    {
        var (m, logS) = MaxAndLogSum(z);
        var lp = new double[z.Length];
        for (int j = 0; j < z.Length; j++)
        {
            lp[j] = (z[j] - m) - logS;
        }

        return lp;
    }

    private static (double Max, double LogSum) MaxAndLogSum(ReadOnlySpan<double> z)
    {
        double m = double.NegativeInfinity;
        foreach (double v in z)
        {
            m = Math.Max(m, v);
        }

        if (double.IsNegativeInfinity(m))
        {
            return (m, double.NegativeInfinity);
        }

        double s = 0;
        foreach (double v in z)
        {
            s += Math.Exp(v - m);
        }

        return (m, Math.Log(s));
    }

    public static double[] Scaled(ReadOnlySpan<float> x, double temperature)
    {
        var z = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            z[i] = x[i] / temperature;
        }

        return z;
    }

    public static double Entropy(ReadOnlySpan<double> z)
    {
        double h = 0;
        foreach (double lp in LogSoftmax(z))
        {
            double p = Math.Exp(lp);
            if (p > 0)
            {
                h -= p * lp;
            }
        }

        return h;
    }

    /// <summary>The Brier score Σ_k (p_k − [k = target])² of softmax(z) (lm-evaluation-harness's brier_score).</summary>
    /// <summary>
    /// Σ_k (p_k - [k = target])². When the target is the max, 1 - p_t is formed from the tail, tail/s:
    /// exp(log p_t) - 1 would cancel (at p_t = 1 - 4e-15 it kept two digits, and a float32 library
    /// that forms it from the tail read 9% off such a reference).
    /// </summary>
    public static double Brier(ReadOnlySpan<double> z, int target)
    {
        int top = 0;
        for (int k = 1; k < z.Length; k++)
        {
            top = z[k] > z[top] ? k : top;
        }

        if (target == top && double.IsFinite(z[top]))
        {
            double tail = 0;
            for (int k = 0; k < z.Length; k++)
            {
                tail += k == top ? 0 : Math.Exp(z[k] - z[top]);
            }

            double s = 1 + tail, miss = tail / s, squares = 0;
            for (int k = 0; k < z.Length; k++)
            {
                double p = k == top ? 0 : Math.Exp(z[k] - z[top]) / s;
                squares += p * p;
            }

            return (miss * miss) + squares;
        }

        var logP = LogSoftmax(z);
        double sum = 0;
        for (int k = 0; k < logP.Length; k++)
        {
            double d = Math.Exp(logP[k]) - (k == target ? 1 : 0);
            sum += d * d;
        }

        return sum;
    }

    /// <summary>PyTorch's per-row cross_entropy (reduction='none') plus z-loss.</summary>
    public static double CrossEntropy(ReadOnlySpan<double> z, int target, double smoothing, float[]? weights, double zloss)
    {
        int v = z.Length;
        double lse = Lse(z);
        var lp = LogSoftmax(z);
        double wy = weights?[target] ?? 1.0;
        double loss = (1 - smoothing) * wy * -lp[target];
        if (smoothing != 0)
        {
            double smooth = 0;
            for (int j = 0; j < v; j++)
            {
                double w = weights?[j] ?? 1.0;
                smooth += w == 0 ? 0 : w * -lp[j];
            }

            loss += smoothing / v * smooth;
        }

        return loss + zloss * lse * lse;
    }

    /// <summary>d loss_i / d x (not z), scaled by <paramref name="scale"/> (1/Σw_y for mean).</summary>
    public static double[] Gradient(ReadOnlySpan<double> z, int target, double smoothing, float[]? weights, double zloss,
        double temperature, double scale)
    {
        int v = z.Length;
        double lse = Lse(z);
        var lp = LogSoftmax(z);
        double wy = weights?[target] ?? 1.0;
        double wsum = 0;
        for (int j = 0; j < v; j++)
        {
            wsum += weights?[j] ?? 1.0;
        }

        var g = new double[v];
        for (int k = 0; k < v; k++)
        {
            double p = Math.Exp(lp[k]);
            double wk = weights?[k] ?? 1.0;
            double d = (1 - smoothing) * wy * (p - (k == target ? 1 : 0)) + smoothing / v * (wsum * p - wk) + 2 * zloss * lse * p;
            g[k] = d * scale / temperature;
        }

        return g;
    }

    /// <summary>ln 2^-149 (the least positive float32), the library's rule for an entry Q masks (see <see cref="Kl"/>).</summary>
    public const double MaskedMassFloor = -103.27892990343185;

    /// <summary>
    /// KL(P‖Q) of the scaled logits z = x/T. An entry Q masks (-inf) to which P gives log p ≥
    /// <see cref="MaskedMassFloor"/> makes it +∞ (q = 0 where p &gt; 0, as PyTorch's float32 kl_div
    /// reads it); further down, p is 0 in float32 and the entry counts as 0 (kl_div: NaN): the
    /// library's documented rule, the same on every backend.
    /// </summary>
    public static double Kl(ReadOnlySpan<double> zp, ReadOnlySpan<double> zq)
    {
        var lp = LogSoftmax(zp);
        var lq = LogSoftmax(zq);
        double kl = 0;
        for (int j = 0; j < zp.Length; j++)
        {
            if (double.IsNegativeInfinity(zq[j]) && !double.IsNegativeInfinity(zp[j]))
            {
                if (lp[j] >= MaskedMassFloor)
                {
                    return double.PositiveInfinity;
                }

                continue;
            }

            double p = Math.Exp(lp[j]);
            if (p > 0)
            {
                kl += p * (lp[j] - lq[j]);
            }
        }

        return kl;
    }

    public static double JensenShannon(ReadOnlySpan<double> zp, ReadOnlySpan<double> zq)
    {
        var lp = LogSoftmax(zp);
        var lq = LogSoftmax(zq);
        double js = 0;
        for (int j = 0; j < zp.Length; j++)
        {
            // The mixture's log from the two logs: (p + q)/2 of subnormal p and q would round.
            double p = Math.Exp(lp[j]), q = Math.Exp(lq[j]);
            double top = Math.Max(lp[j], lq[j]);
            double logM = top + Math.Log((Math.Exp(lp[j] - top) + Math.Exp(lq[j] - top)) / 2);
            if (p > 0)
            {
                js += 0.5 * p * (lp[j] - logM);
            }

            if (q > 0)
            {
                js += 0.5 * q * (lq[j] - logM);
            }
        }

        return js;
    }

    /// <summary>½Σ|p − q| over softmax(zp) and softmax(zq), in float64.</summary>
    public static double TotalVariation(ReadOnlySpan<double> zp, ReadOnlySpan<double> zq)
    {
        var lp = LogSoftmax(zp);
        var lq = LogSoftmax(zq);
        double tv = 0;
        for (int j = 0; j < zp.Length; j++)
        {
            tv += 0.5 * Math.Abs(Math.Exp(lp[j]) - Math.Exp(lq[j]));
        }

        return tv;
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int j = 1; j < x.Length; j++)
        {
            if (x[j] > x[best])
            {
                best = j;
            }
        }

        return best;
    }
}
