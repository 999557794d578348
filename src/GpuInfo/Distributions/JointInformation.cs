namespace GpuInfo;

/// <summary>
/// The entropies and mutual information of a joint distribution p(x, y), in one unit (bits or nats).
/// The conditional entropies and the variation of information are differences of the entropies;
/// the mutual information is summed termwise (<see cref="JointDistribution.MutualInformation"/>).
/// </summary>
/// <param name="SymmetricUncertainty">2 I(X;Y) / (H(X) + H(Y)), in [0, 1]; NaN where both marginals are certain (0/0).</param>
/// <param name="VariationOfInformation">H(X|Y) + H(Y|X) = H(X,Y) - I(X;Y), a distance between the two variables.</param>
public sealed record JointInformation(
    InfoUnit Unit,
    double EntropyX,
    double EntropyY,
    double JointEntropy,
    double ConditionalEntropyYGivenX,
    double ConditionalEntropyXGivenY,
    double MutualInformation,
    double SymmetricUncertainty,
    double VariationOfInformation)
{
    public static JointInformation Of(JointDistribution joint, InfoUnit unit = InfoUnit.Bits)
    {
        ArgumentNullException.ThrowIfNull(joint);
        double hx = joint.EntropyX(unit), hy = joint.EntropyY(unit), hxy = joint.JointEntropy(unit);
        double i = joint.MutualInformation(unit);
        return new JointInformation(unit, hx, hy, hxy, hxy - hx, hxy - hy, i,
            hx + hy > 0 ? 2 * i / (hx + hy) : double.NaN, Math.Max(0, hxy - i));
    }
}
