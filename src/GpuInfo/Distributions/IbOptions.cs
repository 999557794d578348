namespace GpuInfo;

/// <summary>
/// Options of the Information Bottleneck solvers (Tishby, Pereira and Bialek; generalized and
/// deterministic IB of Strouse and Schwab).
/// </summary>
public sealed record IbOptions
{
    /// <summary>Trade-off β ≥ 0 between compression and relevance (the same in any log base).</summary>
    public double Beta { get; init; } = 1;

    /// <summary>α = 1: iterative IB; 0 &lt; α &lt; 1: generalized IB; α = 0: deterministic IB (argmax).</summary>
    public double Alpha { get; init; } = 1;

    /// <summary>Clusters |T|; null means |X|.</summary>
    public int? Clusters { get; init; }

    /// <summary>Restarts (the first from each x in its own cluster when |T| ≥ |X| and α > 0, the rest, and all of the deterministic IB's, random; the deterministic IB with |T| ≥ |X| also tries each x in its own cluster after them); the lowest objective wins.</summary>
    public int Restarts { get; init; } = 4;

    /// <summary>Seed of the random initial encoders (results are reproducible for a seed).</summary>
    public int Seed { get; init; }

    public int MaxIterations { get; init; } = 2000;

    /// <summary>Stop when the objective changes by less than this (nats, relative to max(1, |L|)) and no encoder entry moves by more than 1e-10.</summary>
    public double Tolerance { get; init; } = 1e-12;

    internal void Validate(int x)
    {
        if (!(Beta >= 0) || double.IsInfinity(Beta))
        {
            Guard.Throw(nameof(Beta), $"beta must be finite and >= 0, got {Beta}.");
        }

        if (!(Alpha >= 0 && Alpha <= 1))
        {
            Guard.Throw(nameof(Alpha), $"alpha must be in [0, 1], got {Alpha}.");
        }

        if (Clusters is < 1)
        {
            Guard.Throw(nameof(Clusters), $"clusters must be at least 1, got {Clusters}.");
        }

        if (Restarts < 1)
        {
            Guard.Throw(nameof(Restarts), $"restarts must be at least 1, got {Restarts}.");
        }

        if (MaxIterations < 1)
        {
            Guard.Throw(nameof(MaxIterations), $"max iterations must be at least 1, got {MaxIterations}.");
        }

        if (!(Tolerance > 0) || double.IsInfinity(Tolerance))
        {
            Guard.Throw(nameof(Tolerance), $"tolerance must be finite and > 0, got {Tolerance}.");
        }

        _ = x;
    }
}
