using System.Numerics;

namespace GpuInfo.Tests.Statistics;

/// <summary><see cref="McNemar.ExactP"/> against the binomial sum in exact integers.</summary>
public sealed class McNemarTests
{
    /// <summary>min(1, 2 Σ_{i ≤ min(b, c)} C(b + c, i) / 2^(b + c)), summed in integers and divided once.</summary>
    private static double Exact(int b, int c)
    {
        int n = b + c, k = Math.Min(b, c);
        BigInteger sum = 0, term = 1;
        for (int i = 0; i <= k; i++)
        {
            sum += term;
            term = term * (n - i) / (i + 1);
        }

        // 2 sum / 2^n as a double: shift both to keep 60 significant bits.
        int shift = Math.Max(0, (int)sum.GetBitLength() - 60);
        return Math.Min(1, Math.ScaleB((double)(sum >> shift), shift + 1 - n));
    }

    [Fact]
    public void The_p_value_is_the_exact_binomial_tail_doubled()
    {
        Assert.Equal(1.0, McNemar.ExactP(0, 0));
        Assert.Equal(1.0, McNemar.ExactP(7, 7));
        Assert.Equal(1.0, McNemar.ExactP(6, 7), 1e-14); // 2 P[X <= 6 | 13] = 1
        Assert.Equal(2.0 * 378 / 8192, McNemar.ExactP(10, 3), 1e-15); // 2 (1 + 13 + 78 + 286) / 2^13
        Assert.Equal(McNemar.ExactP(10, 3), McNemar.ExactP(3, 10));
        Assert.Equal(Math.Pow(2, -9), McNemar.ExactP(0, 10), 1e-18);
        Assert.Throws<ArgumentOutOfRangeException>(() => McNemar.ExactP(-1, 2));

        var random = new Random(Environment.TickCount);
        for (int round = 0; round < 40; round++)
        {
            int b = random.Next(0, round < 20 ? 60 : 3000), c = random.Next(0, round < 20 ? 60 : 3000);
            double expected = Exact(b, c);
            double p = McNemar.ExactP(b, c);
            Assert.True(Math.Abs(p - expected) <= 1e-10 * expected || (expected < 1e-300 && p < 1e-290), $"b {b}, c {c}: {p} against {expected}");
        }
    }
}
