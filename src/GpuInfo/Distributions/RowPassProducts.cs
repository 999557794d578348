namespace GpuInfo;

/// <summary>
/// IB products over <see cref="ConditionalRows"/> as one pass over the rows per call: the CPU
/// (<see cref="ConditionalIbProducts"/>) and the ILGPU accelerators implement <see cref="Pass"/>,
/// this maps the three products onto it and holds the float32 tolerances they share.
/// </summary>
internal abstract class RowPassProducts(int contexts) : IIbProducts
{
    public abstract string Name { get; }

    /// <summary>float32 products leave the encoder moving at about this level at a fixed point.</summary>
    public double EncoderTolerance => 1e-6;

    /// <summary>At a fixed point float32 rounding leaves the objective cycling by about 1e-8 relative (seen on planted logits).</summary>
    public double ObjectiveTolerance => 1e-7;

    /// <summary>
    /// Copies of one cluster stay up to ~1e-4 apart (L1) when float32 rounding stops a slow collapse
    /// near a transition (seen at 1.3e-4 on planted logits); real splits are 0.4 and more apart.
    /// </summary>
    public double DecoderTolerance => 1e-3;

    public virtual IbDecoder CreateDecoder(double[] py) => new HostIbDecoder(this, py);

    public void CrossTerms(double[] logDecoder, int clusters, double[] cross) =>
        Pass(logDecoder, clusters, (first, rows, chunk) => chunk.AsSpan(0, rows * clusters).CopyTo(cross.AsSpan(first * clusters)), null, null);

    public void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator) =>
        Pass(null, clusters, null, (x, k) => encoderTransposed[(long)k * contexts + x], numerator);

    public void Step(double[] logDecoder, int clusters, double[] encoder, EncoderUpdate update, double[] numerator) =>
        Pass(
            logDecoder,
            clusters,
            (first, rows, chunk) => update(first, rows, chunk, encoder),
            (x, k) => encoder[(long)x * clusters + k],
            numerator);

    public abstract void Dispose();

    /// <summary>
    /// One read of the rows: with a log-decoder, the cross terms of each chunk ([rows, clusters],
    /// handed to <paramref name="onCross"/> before the chunk's weights are read); with a numerator, Σ_x
    /// p(x)·weights(x, t)·p(y|x) into it.
    /// </summary>
    protected abstract void Pass(double[]? logDecoder, int clusters, Action<int, int, double[]>? onCross, Func<int, int, double>? weights, double[]? numerator);
}
