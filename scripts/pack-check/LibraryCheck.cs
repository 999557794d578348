using GpuInfo;

namespace PackCheck;

/// <summary>
/// Log-sum-exp per row and mean cross-entropy from the package's <see cref="InfoEngine"/>, on the
/// device it picks, against the same figures computed here in float64.
/// </summary>
internal static class LibraryCheck
{
    private const int Vocab = 7;
    private const int Ignored = -100;
    private const double Tolerance = 1e-5;   // float32 inside a row

    // A plain row, a peaked one, one with a masked (-inf) entry, one with large logits.
    private static readonly float[] Values =
    [
        0.5f, -1.25f, 2f, 0f, 0.75f, -3f, 1.5f,
        12f, -4f, 0.25f, 1f, -0.5f, 3f, 2.5f,
        -2f, float.NegativeInfinity, 0.125f, 4f, -1f, 0.5f, 1.75f,
        1000f, 999.5f, 998f, 1001f, 997f, 1000.25f, 996f,
    ];

    private static readonly int[] TargetIds = [2, 0, Ignored, 3];

    public static string Run()
    {
        using var engine = new InfoEngine();
        var logits = Logits.Float32(Values, Vocab);
        int rows = TargetIds.Length;
        var lse = new float[rows];
        engine.LogSumExp(logits, lse);
        var ce = engine.CrossEntropy(logits, TargetIds);

        double nllSum = 0;
        int scored = 0;
        for (int r = 0; r < rows; r++)
        {
            double expected = LogSumExp64(Values.AsSpan(r * Vocab, Vocab));
            Expect($"log-sum-exp of row {r}", lse[r], expected);
            if (TargetIds[r] != Ignored)
            {
                nllSum += expected - Values[(r * Vocab) + TargetIds[r]];
                scored++;
            }
        }

        double meanNll = nllSum / scored;
        Expect("mean cross-entropy", ce.Loss, meanNll);
        return $"library: log-sum-exp of {rows} rows and mean cross-entropy {ce.Loss:F6} nats " +
               $"(float64: {meanNll:F6}) agree within {Tolerance:G1}, on {engine.Device.Kind} ({engine.Device.Name})";
    }

    private static double LogSumExp64(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float x in row)
        {
            max = Math.Max(max, x);
        }

        double sum = 0;
        foreach (float x in row)
        {
            sum += Math.Exp(x - max);
        }

        return max + Math.Log(sum);
    }

    private static void Expect(string what, double actual, double expected)
    {
        if (!(Math.Abs(actual - expected) <= Tolerance * Math.Max(1, Math.Abs(expected))))
        {
            throw new CheckFailedException($"library: {what} is {actual:R}, float64 gives {expected:R}");
        }
    }
}
