namespace GpuInfo;

/// <summary>
/// What an IB solve needs of p(x, y) besides its products: the marginals, each context's
/// Σ_y p(y|x) ln p(y|x), and I(X;Y). Built from a dense joint, or by one pass over
/// <see cref="ConditionalRows"/>.
/// </summary>
internal sealed class IbProblem(double[] px, double[] py, double[] negativeConditionalEntropies, double ixyBits, IIbProducts products) : IDisposable
{
    public int X => Px.Length;

    public int Y => Py.Length;

    public double[] Px { get; } = px;

    public double[] Py { get; } = py;

    /// <summary>Σ_y p(y|x) ln p(y|x) per x, in nats (0 for a context of zero weight).</summary>
    public double[] NegativeConditionalEntropies { get; } = negativeConditionalEntropies;

    public double IxyBits { get; } = ixyBits;

    public IIbProducts Products { get; } = products;

    public static IbProblem FromJoint(JointDistribution joint, IIbProducts products)
    {
        var negHyx = new double[joint.X];
        for (int i = 0; i < joint.X; i++)
        {
            double acc = 0;
            for (int j = 0; j < joint.Y; j++)
            {
                double p = joint.Px[i] > 0 ? joint.P[i * joint.Y + j] / joint.Px[i] : 0;
                acc += p > 0 ? p * Math.Log(p) : 0;
            }

            negHyx[i] = acc;
        }

        return new IbProblem(joint.Px, joint.Py, negHyx, joint.MutualInformation(), products);
    }

    public void Dispose() => Products.Dispose();
}
