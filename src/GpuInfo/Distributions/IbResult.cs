namespace GpuInfo;

/// <summary>One Information Bottleneck solution. Information in bits; the objective in nats.</summary>
public sealed record IbResult
{
    public double Beta { get; init; }

    public double Alpha { get; init; }

    /// <summary>Clusters still in use (empty ones are dropped).</summary>
    public int Clusters { get; init; }

    /// <summary>q(t|x), row-major [X, Clusters].</summary>
    public required double[] Encoder { get; init; }

    /// <summary>argmax_t q(t|x) per x: the hard assignment (exact for the deterministic IB, α = 0).</summary>
    public required int[] Assignments { get; init; }

    /// <summary>q(t).</summary>
    public required double[] ClusterMarginal { get; init; }

    /// <summary>q(y|t), row-major [Clusters, Y].</summary>
    public required double[] Decoder { get; init; }

    public double IxtBits { get; init; }

    public double ItyBits { get; init; }

    public double HtBits { get; init; }

    /// <summary>I(X;Y) of the joint: the ceiling of I(T;Y).</summary>
    public double IxyBits { get; init; }

    /// <summary>L = H(T) - α·H(T|X) - β·I(T;Y) in nats (α = 1: I(X;T) - β·I(T;Y)).</summary>
    public double Objective { get; init; }

    public int Iterations { get; init; }

    /// <summary>Where the matrix products ran (device and kernel or BLAS).</summary>
    public string Products { get; init; } = string.Empty;

    public bool Converged { get; init; }
}

/// <summary>Progress of a solve: one report per iteration.</summary>
/// <param name="Beta">The β being solved.</param>
/// <param name="Restart">Which restart (0 is the warm or identity start).</param>
/// <param name="Iteration">Iterations done in this restart.</param>
/// <param name="Objective">L after the iteration, in nats.</param>
/// <param name="Clusters">Clusters with mass.</param>
/// <param name="Moved">The largest change of an encoder entry in the iteration.</param>
/// <param name="ProductSeconds">
/// Seconds of the iteration spent in its products (the pass over the data and the decoder update,
/// on whatever device runs them), not counting the encoder update they call back: the rest of the
/// iteration is the solver's own host work.
/// </param>
public sealed record IbIteration(double Beta, int Restart, int Iteration, double Objective, int Clusters, double Moved, double ProductSeconds = 0);
