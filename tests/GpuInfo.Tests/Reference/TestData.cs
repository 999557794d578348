namespace GpuInfo.Tests.Reference;

/// <summary>Random logits and targets with fresh seeds (reported in assertion messages).</summary>
public sealed class TestData
{
    public TestData(int? seed = null)
    {
        Seed = seed ?? Random.Shared.Next();
        Rng = new Random(Seed);
    }

    public int Seed { get; }

    public Random Rng { get; }

    /// <summary>Logits ~ N(0, scale²) with a few peaked entries, like a language model's outputs.</summary>
    public float[] Logits(int rows, int vocab, double scale = 3.0)
    {
        var x = new float[rows * vocab];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(Normal() * scale);
        }

        for (int r = 0; r < rows; r++)
        {
            x[r * vocab + Rng.Next(vocab)] += (float)(scale * 4);
        }

        return x;
    }

    /// <summary>Test logits = base + small noise (a quantized model against its base).</summary>
    public float[] Perturbed(float[] baseLogits, double noise)
    {
        var x = new float[baseLogits.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(baseLogits[i] + Normal() * noise);
        }

        return x;
    }

    public int[] Targets(int rows, int vocab, double ignoredFraction = 0, int ignoreIndex = -100)
    {
        var t = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            t[i] = Rng.NextDouble() < ignoredFraction ? ignoreIndex : Rng.Next(vocab);
        }

        return t;
    }

    public float[] Weights(int vocab)
    {
        var w = new float[vocab];
        for (int j = 0; j < vocab; j++)
        {
            w[j] = Rng.NextDouble() < 0.05 ? 0f : (float)(0.25 + Rng.NextDouble() * 2);
        }

        return w;
    }

    /// <summary>Sets a fraction of entries to -inf (masked), never a whole row.</summary>
    public void Mask(float[] x, int vocab, double fraction)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (i % vocab != 0 && Rng.NextDouble() < fraction)
            {
                x[i] = float.NegativeInfinity;
            }
        }
    }

    public double Normal()
    {
        double u1 = 1.0 - Rng.NextDouble(), u2 = Rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public override string ToString() => $"seed {Seed}";
}
