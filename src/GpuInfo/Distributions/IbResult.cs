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

    public bool Converged { get; init; }
}
