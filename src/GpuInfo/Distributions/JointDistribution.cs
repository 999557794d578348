namespace GpuInfo;

/// <summary>
/// A discrete joint distribution p(x, y) on [X, Y], normalised from non-negative weights (counts or
/// probabilities), with its marginals and the entropies and mutual information derived from it.
/// </summary>
public sealed class JointDistribution
{
    private JointDistribution(double[] p, int x, int y)
    {
        P = p;
        X = x;
        Y = y;
        Px = new double[x];
        Py = new double[y];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                Px[i] += p[i * y + j];
                Py[j] += p[i * y + j];
            }
        }
    }

    public int X { get; }

    public int Y { get; }

    /// <summary>p(x, y), row-major [X, Y], summing to 1.</summary>
    public double[] P { get; }

    public double[] Px { get; }

    public double[] Py { get; }

    /// <summary>Normalises non-negative finite weights into a joint distribution.</summary>
    /// <exception cref="InvalidInputException">An entry is negative or not finite, or everything is 0.</exception>
    public static JointDistribution FromWeights(double[,] weights, string name = "joint")
    {
        ArgumentNullException.ThrowIfNull(weights);
        int x = weights.GetLength(0), y = weights.GetLength(1);
        if (x == 0 || y == 0)
        {
            throw new ArgumentException($"the joint distribution is empty ([{x}, {y}]).", name);
        }

        var p = new double[x * y];
        double total = 0;
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                double w = weights[i, j];
                if (!(w >= 0) || double.IsInfinity(w))
                {
                    throw new InvalidInputException(name, i, $"entry [{i}, {j}] is {w}; probabilities and counts must be finite and >= 0.");
                }

                p[i * y + j] = w;
                total += w;
            }
        }

        if (!(total > 0) || double.IsInfinity(total))
        {
            throw new ArgumentException($"the entries sum to {total}; a distribution needs a positive finite total.", name);
        }

        for (int k = 0; k < p.Length; k++)
        {
            p[k] /= total;
        }

        return new JointDistribution(p, x, y);
    }

    public double EntropyX(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(Px));

    public double EntropyY(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(Py));

    public double JointEntropy(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(P));

    /// <summary>H(Y|X) = H(X,Y) - H(X).</summary>
    public double ConditionalEntropyYGivenX(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(P) - Entropy(Px));

    /// <summary>I(X;Y) = Σ p(x,y) log(p(x,y) / (p(x)p(y))), computed termwise (never as a difference of entropies).</summary>
    public double MutualInformation(InfoUnit unit = InfoUnit.Bits)
    {
        double mi = 0;
        for (int i = 0; i < X; i++)
        {
            for (int j = 0; j < Y; j++)
            {
                double pxy = P[i * Y + j];
                if (pxy > 0)
                {
                    mi += pxy * Math.Log(pxy / (Px[i] * Py[j]));
                }
            }
        }

        return unit.FromNats(Math.Max(0, mi));
    }

    /// <summary>-Σ p log p in nats, with 0 log 0 = 0.</summary>
    public static double Entropy(ReadOnlySpan<double> p)
    {
        double h = 0;
        foreach (double v in p)
        {
            if (v > 0)
            {
                h -= v * Math.Log(v);
            }
        }

        return h;
    }
}
