using System.Numerics.Tensors;

namespace GpuInfo;

/// <summary>
/// The decoder side of an IB solve, kept where its products run: the numerator q(t, y) =
/// Σ_x p(x)q(t|x)p(y|x) that the products write, and log q(y|t) = log(q(t, y) / q(t)) that they
/// read. Both are [clusters, Y], an iteration's largest arrays. <see cref="HostIbDecoder"/> keeps
/// them in host arrays; an accelerator may keep them on its device, so that an iteration moves only
/// q(t) and a number per cluster across the bus instead of two [clusters, Y] arrays.
/// </summary>
internal abstract class IbDecoder : IDisposable
{
    /// <summary>log 0 as a finite number, so that 0·log 0 stays 0 inside a matrix product.</summary>
    public const double LogZero = -1e300;

    /// <summary>Runs before each product (a check for cancellation and disposal, see <see cref="InfoEngine"/>).</summary>
    public Action? BeforeProduct { get; set; }

    /// <summary>The numerator of a [X, clusters] encoder given transposed ([clusters, X]), from scratch.</summary>
    public void Recompute(double[] encoderTransposed, int clusters)
    {
        BeforeProduct?.Invoke();
        RecomputeCore(encoderTransposed, clusters);
    }

    /// <summary>
    /// One iteration (see <see cref="IIbProducts.Step"/>): cross terms against the current log q(y|t),
    /// the encoder's rows rewritten by <paramref name="update"/>, and the new encoder's numerator in
    /// place of the old one.
    /// </summary>
    public void Step(double[] encoder, int clusters, EncoderUpdate update)
    {
        BeforeProduct?.Invoke();
        StepCore(encoder, clusters, update);
    }

    /// <summary>
    /// Sets log q(y|t) from the numerator and q(t) (log 0 as <see cref="LogZero"/>) for the next
    /// step, and returns I(T;Y) = Σ_t Σ_y q(t, y)·(log q(y|t) − log p(y)) in nats.
    /// </summary>
    public abstract double Update(double[] qt);

    /// <summary>The numerator q(t, y), [clusters, Y], in a host array.</summary>
    public abstract double[] Numerator();

    public virtual void Dispose()
    {
    }

    protected abstract void RecomputeCore(double[] encoderTransposed, int clusters);

    protected abstract void StepCore(double[] encoder, int clusters, EncoderUpdate update);

    /// <summary>log p(y), log 0 as <see cref="LogZero"/>.</summary>
    protected static double[] LogMarginal(double[] py)
    {
        var logPy = new double[py.Length];
        TensorPrimitives.Log(py, logPy);
        TensorPrimitives.Max(logPy, LogZero, logPy);
        return logPy;
    }
}

/// <summary>The decoder in host arrays, for products that take and return them (every CPU path, and the dense joint on an accelerator).</summary>
internal sealed class HostIbDecoder(IIbProducts products, double[] py) : IbDecoder
{
    private readonly double[] _logPy = LogMarginal(py);
    private double[] _numerator = [];
    private double[] _logDecoder = [];
    private int _clusters;

    public override double Update(double[] qt)
    {
        int y = _logPy.Length, t = _clusters;
        var logDecoder = _logDecoder.Length == t * y ? _logDecoder : new double[t * y];
        var numerator = _numerator;
        var logPy = _logPy;
        var terms = new double[t];

        // Per cluster, in parallel: at 256 x 50257 the logs took a sizeable share of an iteration on one core.
        Parallel.For(0, t, k =>
        {
            var row = logDecoder.AsSpan(k * y, y);
            var n = numerator.AsSpan(k * y, y);
            TensorPrimitives.Divide(n, qt[k], row);
            TensorPrimitives.Log(row, row);
            TensorPrimitives.Max(row, LogZero, row); // log 0 = -inf becomes LogZero

            // q(t, y) = 0 adds 0·LogZero = 0 (p(y) = 0 only where every q(t, y) is 0).
            terms[k] = TensorPrimitives.Dot(n, row) - TensorPrimitives.Dot(n, logPy);
        });

        _logDecoder = logDecoder;
        double mi = 0;
        foreach (double term in terms)
        {
            mi += term;
        }

        return mi;
    }

    public override double[] Numerator() => _numerator;

    protected override void RecomputeCore(double[] encoderTransposed, int clusters)
    {
        _clusters = clusters;
        _numerator = new double[clusters * _logPy.Length];
        products.DecoderNumerator(encoderTransposed, clusters, _numerator);
    }

    protected override void StepCore(double[] encoder, int clusters, EncoderUpdate update) =>
        products.Step(_logDecoder, clusters, encoder, update, _numerator);
}
