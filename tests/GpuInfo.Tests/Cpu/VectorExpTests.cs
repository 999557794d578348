using System.Runtime.Intrinsics;
using GpuInfo.Backends.Cpu.Lanes;

namespace GpuInfo.Tests.Cpu;

/// <summary>
/// The CPU passes' vectorised exp and exp2 against float64: 16 lanes (AVX-512), 8 lanes (AVX-512VL
/// where present) and the portable 8-lane method every other machine runs: within 2 ulp of the
/// float64 value over the whole float range (subnormal results included), and the IEEE results at
/// the specials.
/// </summary>
public sealed class VectorExpTests
{
    private const double MaxUlps = 2.0;

    public enum Path
    {
        Lanes16,
        Lanes8,
        Portable,
    }

    public static TheoryData<Path, bool> Widths()
    {
        var data = new TheoryData<Path, bool>();
        foreach (var path in Enum.GetValues<Path>())
        {
            data.Add(path, false);
            data.Add(path, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Matches_float64_within_2_ulp_over_the_whole_range(Path path, bool base2)
    {
        Assert.SkipWhen(path == Path.Lanes16 && !Lanes512.IsSupported, "this CPU has no AVX-512 (the 16-lane path is not used here)");
        var rng = new Random(Environment.TickCount);
        float lo = base2 ? -152f : -105f, hi = base2 ? 129f : 89.5f;
        var x = new float[1 << 18];
        for (int i = 0; i < x.Length; i++)
        {
            // Half over the whole range, half where softmax sums live (|x| < 20).
            x[i] = i % 2 == 0 ? lo + (float)rng.NextDouble() * (hi - lo) : -20f + 40f * (float)rng.NextDouble();
        }

        var e = Evaluate(x, path, base2);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double reference = base2 ? Math.Pow(2, x[i]) : Math.Exp(x[i]);
            double ulps = UlpError(e[i], reference);
            if (ulps > worst)
            {
                (worst, worstAt) = (ulps, x[i]);
            }
        }

        Assert.True(worst <= MaxUlps, $"{(base2 ? "exp2" : "exp")} is {worst:F2} ulp off at x = {worstAt:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Specials_follow_IEEE(Path path, bool base2)
    {
        Assert.SkipWhen(path == Path.Lanes16 && !Lanes512.IsSupported, "this CPU has no AVX-512 (the 16-lane path is not used here)");
        float[] x = [float.NegativeInfinity, float.PositiveInfinity, float.NaN, -1e30f, 1e30f, base2 ? -160f : -110f, base2 ? 128.5f : 89f, 0f, -0f];
        var e = Evaluate(x, path, base2);
        Assert.Equal(0f, e[0]);
        Assert.Equal(float.PositiveInfinity, e[1]);
        Assert.True(float.IsNaN(e[2]));
        Assert.Equal(0f, e[3]);
        Assert.Equal(float.PositiveInfinity, e[4]);
        Assert.Equal(0f, e[5]);
        Assert.Equal(float.PositiveInfinity, e[6]);
        Assert.Equal(1f, e[7]);
        Assert.Equal(1f, e[8]);
    }

    private static float[] Evaluate(float[] input, Path path, bool base2)
    {
        int width = path == Path.Lanes16 ? Vector512<float>.Count : Vector256<float>.Count;
        int padded = (input.Length + width - 1) / width * width;
        var x = new float[padded];
        input.CopyTo(x, 0);
        var e = new float[padded];
        for (int i = 0; i < padded; i += width)
        {
            if (path == Path.Lanes16)
            {
                var v = Vector512.Create(x.AsSpan(i, width));
                (base2 ? VectorExp.Exp2(v) : VectorExp.Exp(v)).CopyTo(e.AsSpan(i, width));
            }
            else
            {
                var v = Vector256.Create(x.AsSpan(i, width));
                var r = path == Path.Portable
                    ? (base2 ? VectorExp.PortableExp2(v) : VectorExp.PortableExp(v))
                    : (base2 ? VectorExp.Exp2(v) : VectorExp.Exp(v));
                r.CopyTo(e.AsSpan(i, width));
            }
        }

        return e[..input.Length];
    }

    /// <summary>|result - reference| in units of the float spacing at the reference (the subnormal spacing below float's normal range).</summary>
    private static double UlpError(float result, double reference)
    {
        if (reference > float.MaxValue)
        {
            return result == float.PositiveInfinity ? 0 : double.PositiveInfinity;
        }

        double spacing = Math.Max(Math.Pow(2, Math.Floor(Math.Log2(reference)) - 23), float.Epsilon);
        return Math.Abs(result - reference) / spacing;
    }
}
