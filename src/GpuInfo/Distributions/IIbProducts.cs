namespace GpuInfo;

/// <summary>
/// The two matrix products of an IB iteration, where a solver spends its time; implemented on the
/// CPU in float64 and by ILGPU kernels on accelerators. The joint stays resident between calls.
/// </summary>
internal interface IIbProducts : IDisposable
{
    /// <summary>cross[x, t] = Σ_y p(y|x)·logDecoder[t, y], for a [clusters, Y] log-decoder.</summary>
    void CrossTerms(double[] logDecoder, int clusters, double[] cross);

    /// <summary>numerator[t, y] = Σ_x encoderT[t, x]·p(x, y), for a [clusters, X] transposed encoder.</summary>
    void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator);
}
