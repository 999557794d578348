using GpuInfo.Backends.Cpu.Blas;

namespace GpuInfo.Tests.Blas;

/// <summary>The IB's two float32 products, managed and (where one loads) system BLAS, against float64 on strided operands.</summary>
public sealed class SgemmTests
{
    public static TheoryData<bool, int, int, int> Shapes => new()
    {
        // managed?, m, n, k: n and k cross the managed kernels' 256-row and 2048-column blocks
        { true, 3, 300, 70 }, { true, 5, 2100, 600 }, { true, 1, 1, 1 }, { true, 4, 7, 0 },
        { false, 3, 300, 70 }, { false, 5, 2100, 600 }, { false, 4, 7, 0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_match_float64_on_strided_operands(bool managed, int m, int n, int k)
    {
        var sgemm = Sgemm.Create(2, managedOnly: managed);
        if (!managed && sgemm is ManagedSgemm)
        {
            Assert.Skip(NativeSgemm.Missing);
        }

        Assert.Equal(managed, sgemm is ManagedSgemm);
        var rng = new Random(Environment.TickCount);
        int pad = 3;

        // A·Bᵀ: a [m, k], b [n, k], c [m, n], each with a wider row stride.
        var a = Random(rng, m * (k + pad));
        var b = Random(rng, n * (k + pad));
        var c = Random(rng, m * (n + pad));
        var before = (float[])c.Clone();
        sgemm.MultiplyTransposed(m, n, k, a, k + pad, b, k + pad, c, n + pad);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int l = 0; l < k; l++)
                {
                    expected += (double)a[i * (k + pad) + l] * b[j * (k + pad) + l];
                }

                Assert.Equal(expected, c[i * (n + pad) + j], Tolerance(k));
            }

            Assert.Equal(before.AsSpan(i * (n + pad) + n, pad).ToArray(), c.AsSpan(i * (n + pad) + n, pad).ToArray());
        }

        // Aᵀ·B (+ C): a [k, m], b [k, n], c [m, n].
        foreach (bool accumulate in new[] { false, true })
        {
            a = Random(rng, k * (m + pad));
            b = Random(rng, k * (n + pad));
            c = Random(rng, m * (n + pad));
            before = (float[])c.Clone();
            sgemm.MultiplyTransposedLeft(m, n, k, a, m + pad, b, n + pad, c, n + pad, accumulate);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double expected = accumulate ? before[i * (n + pad) + j] : 0;
                    for (int l = 0; l < k; l++)
                    {
                        expected += (double)a[l * (m + pad) + i] * b[l * (n + pad) + j];
                    }

                    Assert.Equal(expected, c[i * (n + pad) + j], Tolerance(k + 1));
                }

                Assert.Equal(before.AsSpan(i * (n + pad) + n, pad).ToArray(), c.AsSpan(i * (n + pad) + n, pad).ToArray());
            }
        }
    }

    [Fact]
    public void An_operand_too_short_for_its_shape_names_itself()
    {
        var sgemm = Sgemm.Create(1, managedOnly: true);
        var e = Assert.Throws<ArgumentException>(() => sgemm.MultiplyTransposed(2, 2, 3, new float[5], 3, new float[6], 3, new float[4], 2));
        Assert.Equal("a", e.ParamName);
    }

    // Terms in [-1, 1]: float32 sums of k of them are within about k·2^-24 of the exact value.
    [Fact]
    public void An_openblas_names_its_version_and_the_kernels_it_picked()
    {
        var sgemm = Sgemm.Create(2);
        if (sgemm is ManagedSgemm)
        {
            Assert.Skip(NativeSgemm.Missing);
        }

        if (!sgemm.Name.StartsWith("OpenBLAS", StringComparison.Ordinal))
        {
            Assert.Skip($"the system BLAS is not OpenBLAS: {sgemm.Name}");
        }

        // OPENBLAS_CORETYPE, where set, overrides the pick, and the name says so (the dev VM sets Haswell, whose kernels run at about half the speed of the AVX-512 ones OpenBLAS picks there).
        Assert.Matches(@"^OpenBLAS \d+\.\d+\.\d+ \(libopenblas[^,]*, \w+ kernels(; OPENBLAS_CORETYPE=[^)]+)?\)$", sgemm.Name);
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { Length: > 0 } coreType)
        {
            Assert.EndsWith($" kernels; OPENBLAS_CORETYPE={coreType})", sgemm.Name, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("OPENBLAS_CORETYPE", sgemm.Name, StringComparison.Ordinal);
        }
    }

    private static double Tolerance(int k) => 1e-6 * Math.Max(1, k);

    private static float[] Random(Random rng, int length) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
}
