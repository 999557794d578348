namespace GpuInfo;

/// <summary>
/// Turns a non-finite log-sum-exp (how the backends flag a bad row) into an error that names the
/// row and says what is wrong with it.
/// </summary>
internal static class RowValidator
{
    public static void ThrowIfInvalid(ReadOnlySpan<float> lse, in RowsView logits, float temperature, string name, long firstRow = 0)
    {
        for (int row = 0; row < lse.Length; row++)
        {
            if (!float.IsFinite(lse[row]))
            {
                throw new InvalidInputException(name, firstRow + row, Describe(logits, row, temperature));
            }
        }
    }

    private static string Describe(in RowsView logits, long row, float temperature)
    {
        bool anyFinite = false;
        for (int j = 0; j < logits.Vocab; j++)
        {
            float x = Backends.Cpu.BlockLoader.LoadOne(logits, row, j);
            if (float.IsNaN(x))
            {
                return $"logit {j} is NaN.";
            }

            if (float.IsPositiveInfinity(x))
            {
                return $"logit {j} is +inf.";
            }

            anyFinite |= float.IsFinite(x);
        }

        return anyFinite
            ? $"logits overflow float32 when divided by the temperature {temperature}."
            : "every logit is -inf, so no class has any probability.";
    }
}
