namespace GpuInfo;

/// <summary>
/// Rewrites rows [firstRow, firstRow + rows) of <paramref name="encoder"/> (the whole [X, clusters]
/// encoder) from their cross terms (<paramref name="cross"/>: [rows, clusters] from index 0, longer
/// arrays allowed). Arrays, not spans, so that an update may run its rows in parallel.
/// </summary>
internal delegate void EncoderUpdate(int firstRow, int rows, double[] cross, double[] encoder);

/// <summary>
/// The two matrix products of an IB iteration, where a solver spends its time; implemented on the
/// CPU in float64 and by ILGPU kernels on accelerators for a dense joint, and chunk by chunk over
/// rows of logits for <see cref="ConditionalRows"/>. With P = p(y|x):
/// cross[x, t] = Σ_y P[x, y]·log q(y|t) and numerator[t, y] = Σ_x encoderT[t, x]·p(x)·P[x, y].
/// </summary>
internal interface IIbProducts : IDisposable
{
    /// <summary>Where the products run, for reports.</summary>
    string Name { get; }

    /// <summary>How far the encoder may still move at a fixed point: the products' rounding (float64 ~1e-10, float32 more).</summary>
    double EncoderTolerance => 1e-10;

    /// <summary>How much the objective (relative to max(1, |L|)) may still change at a fixed point; the options' tolerance applies when larger.</summary>
    double ObjectiveTolerance => 0;

    /// <summary>Decoders closer than this (L1) are one cluster: copies of a cluster differ by the products' rounding.</summary>
    double DecoderTolerance => 1e-6;

    /// <summary>A solve's decoder, kept where these products want it: host arrays unless an accelerator keeps it on its device.</summary>
    IbDecoder CreateDecoder(double[] py) => new HostIbDecoder(this, py);

    /// <summary>cross[x, t] = Σ_y p(y|x)·logDecoder[t, y], for a [clusters, Y] log-decoder.</summary>
    void CrossTerms(double[] logDecoder, int clusters, double[] cross);

    /// <summary>numerator[t, y] = Σ_x encoderT[t, x]·p(x, y), for a [clusters, X] transposed encoder.</summary>
    void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator);

    /// <summary>
    /// One iteration: the cross terms of <paramref name="logDecoder"/>, the encoder's rows rewritten
    /// from them by <paramref name="update"/>, then the decoder numerator of the new encoder. Sources
    /// that stream their rows do all three in one pass, chunk by chunk.
    /// </summary>
    void Step(double[] logDecoder, int clusters, double[] encoder, EncoderUpdate update, double[] numerator)
    {
        int x = encoder.Length / clusters;
        var cross = new double[encoder.Length];
        CrossTerms(logDecoder, clusters, cross);
        update(0, x, cross, encoder);
        DecoderNumerator(Transpose(encoder, x, clusters), clusters, numerator);
    }

    /// <summary>[rows, columns] to [columns, rows].</summary>
    static double[] Transpose(double[] matrix, int rows, int columns)
    {
        var result = new double[matrix.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < columns; k++)
            {
                result[k * rows + i] = matrix[i * columns + k];
            }
        }

        return result;
    }
}
