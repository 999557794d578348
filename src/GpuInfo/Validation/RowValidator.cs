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

    /// <summary>
    /// Refuses a gradient float32 cannot hold: its entries are at most scale·(|(1-e)·w_y + e·W/V +
    /// 2·zloss·lse| + (1-e)·w_y + e·max w/V) with scale = 1/T (over Σw_y for the mean), which at a
    /// tiny temperature with z-loss (1/T²·lse) or huge class weights passes float32's range: the kernels
    /// then wrote ∞·0 = NaN where a probability is 0. Bounded in float64 from each row's lse.
    /// </summary>
    public static void ThrowIfGradientOverflows(ReadOnlySpan<float> lse, ReadOnlySpan<int> targets, in Kernels.CrossEntropyParams ce, float[]? weights, float temperature)
    {
        double scale = (double)ce.GradientScale * ce.InvTemperature;
        if (double.IsNaN(scale))
        {
            return; // a mean over Σw_y = 0: the gradient is NaN by definition, as PyTorch's
        }

        double e = ce.LabelSmoothing;
        double meanWeight = weights is null ? 1 : (double)ce.WeightSum / ce.Vocab;
        double largestWeight = weights is null ? 1 : weights.Max();
        for (int row = 0; row < lse.Length; row++)
        {
            if (targets[row] == ce.IgnoreIndex)
            {
                continue;
            }

            double weightY = weights?[targets[row]] ?? 1;
            double ofProb = Math.Abs(((1 - e) * weightY) + (e * meanWeight) + (2.0 * ce.ZLoss * lse[row]));
            double bound = Math.Abs(scale) * (ofProb + ((1 - e) * weightY) + (e * largestWeight / ce.Vocab));
            if (!(bound <= float.MaxValue))
            {
                throw new InvalidInputException("logits", row,
                    $"its gradient overflows float32 (entries up to about {bound:g3}) at the temperature {temperature}{(ce.ZLoss != 0 ? $" with z-loss {ce.ZLoss}" : "")}; a larger temperature{(ce.ZLoss != 0 ? ", a smaller z-loss" : "")} or smaller class weights keep it in range.");
            }
        }
    }

    /// <summary>
    /// For the measures that take no log-sum-exp (ranks, top-k sets): throws where a row holds NaN or
    /// +inf, or only -inf, as every other measure does, rather than rank a NaN first.
    /// </summary>
    public static void ThrowIfNoDistribution(in RowsView logits, long row, string name)
    {
        if (Problem(logits, row) is { } problem)
        {
            throw new InvalidInputException(name, row, problem);
        }
    }

    /// <summary>The first row's error of a parallel loop's (Parallel.For wraps them), as a serial loop would throw it.</summary>
    public static Exception FirstRow(AggregateException e) =>
        e.InnerExceptions.All(i => i is InvalidInputException) ? e.InnerExceptions.Cast<InvalidInputException>().MinBy(i => i.Row)! : e;

    private static string Describe(in RowsView logits, long row, float temperature) =>
        Problem(logits, row) ?? $"logits overflow float32 when divided by the temperature {temperature}.";

    /// <summary>What keeps a row from being a distribution: its first NaN or +inf logit, or every logit -inf; null where nothing does.</summary>
    private static string? Problem(in RowsView logits, long row)
    {
        bool anyFinite = false;
        for (int j = 0; j < logits.Vocab; j++)
        {
            float x = Backends.Cpu.BlockLoader.LoadOne(logits, row, j);
            if (float.IsNaN(x) || float.IsPositiveInfinity(x))
            {
                return $"logit {j} is {(float.IsNaN(x) ? "NaN" : "+inf")}.";
            }

            anyFinite |= float.IsFinite(x);
        }

        return anyFinite ? null : "every logit is -inf, so no class has any probability.";
    }
}
