namespace GpuInfo.Tests.Distributions;

/// <summary>
/// Logits with a planted structure: groups of contexts that share one next-token distribution,
/// each row its group's logits plus Gaussian noise, and the float64 quantities an IB solution over
/// them must reproduce.
/// </summary>
internal sealed class PlantedLogits
{
    public PlantedLogits(int groups, int perGroup, int vocab, double spread, double noise, int seed)
    {
        var rng = new Random(seed);
        Vocab = vocab;
        Group = new int[groups * perGroup];
        Values = new float[Group.Length * vocab];
        var centres = new double[groups, vocab];
        for (int g = 0; g < groups; g++)
        {
            for (int j = 0; j < vocab; j++)
            {
                centres[g, j] = spread * Gaussian(rng);
            }
        }

        for (int i = 0; i < Group.Length; i++)
        {
            Group[i] = i % groups;
            for (int j = 0; j < vocab; j++)
            {
                Values[i * vocab + j] = (float)(centres[Group[i], j] + noise * Gaussian(rng));
            }
        }
    }

    public int Vocab { get; }

    public int Rows => Group.Length;

    /// <summary>The planted group of each row.</summary>
    public int[] Group { get; }

    public float[] Values { get; }

    /// <summary>softmax(row / T) in float64.</summary>
    public static double[] Softmax(ReadOnlySpan<float> row, double temperature)
    {
        double max = double.NegativeInfinity;
        foreach (float v in row)
        {
            max = Math.Max(max, v / temperature);
        }

        var p = new double[row.Length];
        double sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            p[j] = float.IsNegativeInfinity(row[j]) ? 0 : Math.Exp(row[j] / temperature - max);
            sum += p[j];
        }

        for (int j = 0; j < row.Length; j++)
        {
            p[j] /= sum;
        }

        return p;
    }

    /// <summary>I(X;T), I(T;Y), H(T) in bits recomputed in float64 from an encoder [X, T] over rows of logits.</summary>
    public static (double Ixt, double Ity, double Ht) Recompute(float[] logits, int vocab, double temperature, double[] px, double[] encoder, int clusters)
    {
        int x = px.Length;
        var qt = new double[clusters];
        var qty = new double[clusters * vocab];
        var py = new double[vocab];
        double htx = 0;
        for (int i = 0; i < x; i++)
        {
            var p = Softmax(logits.AsSpan(i * vocab, vocab), temperature);
            for (int k = 0; k < clusters; k++)
            {
                double e = encoder[i * clusters + k];
                qt[k] += px[i] * e;
                htx -= e > 0 ? px[i] * e * Math.Log(e) : 0;
                for (int j = 0; j < vocab; j++)
                {
                    qty[k * vocab + j] += px[i] * e * p[j];
                }
            }

            for (int j = 0; j < vocab; j++)
            {
                py[j] += px[i] * p[j];
            }
        }

        double ht = -qt.Sum(q => q > 0 ? q * Math.Log(q) : 0);
        double ity = 0;
        for (int k = 0; k < clusters; k++)
        {
            for (int j = 0; j < vocab; j++)
            {
                double q = qty[k * vocab + j];
                ity += q > 0 ? q * Math.Log(q / (qt[k] * py[j])) : 0;
            }
        }

        double ln2 = Math.Log(2);
        return ((ht - htx) / ln2, ity / ln2, ht / ln2);
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
