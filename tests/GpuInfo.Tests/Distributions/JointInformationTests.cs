using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Distributions;

/// <summary>
/// The entropies and mutual information of a joint (<see cref="JointInformation"/>), and of a table of
/// counts (<see cref="ContingencyTable"/>: Miller-Madow, the G-test), against float64 formulas written
/// here from the definitions, closed forms, and the chi-squared survival function's closed form for
/// even degrees of freedom; then the `mi` verb.
/// </summary>
public sealed class JointInformationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Random_joints_match_the_definitions()
    {
        var data = new TestData();
        foreach (var (x, y) in new[] { (7, 13), (1, 5), (29, 3) })
        {
            var w = new double[x, y];
            for (int i = 0; i < x; i++)
            {
                for (int j = 0; j < y; j++)
                {
                    // A third of the cells empty: 0 log 0 = 0 throughout. The first never is: a 1 x 5
                    // joint was all empty in one run of 250 (no distribution at all).
                    w[i, j] = i + j > 0 && data.Rng.Next(3) == 0 ? 0 : 0.01 + (data.Rng.NextDouble() * 10);
                }
            }

            var r = Reference(w);
            var info = JointInformation.Of(JointDistribution.FromWeights(w), InfoUnit.Nats);
            string where = $"seed {data.Seed}, [{x}, {y}]";
            Assert.True(Math.Abs(info.EntropyX - r.Hx) < 1e-12, where);
            Assert.True(Math.Abs(info.EntropyY - r.Hy) < 1e-12, where);
            Assert.True(Math.Abs(info.JointEntropy - r.Hxy) < 1e-12, where);
            Assert.True(Math.Abs(info.ConditionalEntropyYGivenX - r.HyGivenX) < 1e-12, where);
            Assert.True(Math.Abs(info.ConditionalEntropyXGivenY - r.HxGivenY) < 1e-12, where);
            Assert.True(Math.Abs(info.MutualInformation - r.I) < 1e-12, where);
            Assert.True(Math.Abs(info.VariationOfInformation - (r.HyGivenX + r.HxGivenY)) < 1e-12, where);
            if (r.Hx + r.Hy > 0)
            {
                Assert.True(Math.Abs(info.SymmetricUncertainty - (2 * r.I / (r.Hx + r.Hy))) < 1e-12, where);
            }
        }
    }

    [Fact]
    public void A_binary_symmetric_channel_with_uniform_input_gives_one_minus_h2()
    {
        var info = JointInformation.Of(JointDistribution.FromWeights(new[,] { { 0.45, 0.05 }, { 0.05, 0.45 } }));
        Assert.Equal(1 - ClosedForms.H2(0.1), info.MutualInformation, 1e-14);
        Assert.Equal(ClosedForms.H2(0.1), info.ConditionalEntropyYGivenX, 1e-14);
        Assert.Equal(1 - ClosedForms.H2(0.1), info.SymmetricUncertainty, 1e-14);
        Assert.Equal(1.0, info.EntropyX, 1e-15);
    }

    [Fact]
    public void Certain_marginals_have_no_symmetric_uncertainty()
    {
        var info = JointInformation.Of(JointDistribution.FromWeights(new[,] { { 0.0, 3.0 }, { 0.0, 0.0 } }));
        Assert.Equal(0, info.MutualInformation);
        Assert.True(double.IsNaN(info.SymmetricUncertainty));
    }

    [Fact]
    public void Counts_give_the_G_test_and_Miller_Madow_from_their_formulas()
    {
        var data = new TestData();

        // A 3 x 2 table of counts has 2 degrees of freedom (chi-squared survival exp(-G/2)); with an
        // empty row and column added, still 2 (they hold no count); 5 x 2 has 4: exp(-G/2)(1 + G/2).
        foreach (var (x, y, empty, dof) in new[] { (3, 2, false, 2L), (3, 2, true, 2L), (5, 2, false, 4L) })
        {
            var n = new double[x + (empty ? 1 : 0), y + (empty ? 1 : 0)];
            for (int i = 0; i < x; i++)
            {
                for (int j = 0; j < y; j++)
                {
                    n[i, j] = data.Rng.Next(1, 40) + (i == j ? 15 : 0);
                }
            }

            var table = ContingencyTable.FromCounts(n);
            double total = 0, g = 0;
            var rows = new double[n.GetLength(0)];
            var cols = new double[n.GetLength(1)];
            int cells = 0;
            for (int i = 0; i < n.GetLength(0); i++)
            {
                for (int j = 0; j < n.GetLength(1); j++)
                {
                    total += n[i, j];
                    rows[i] += n[i, j];
                    cols[j] += n[i, j];
                    cells += n[i, j] > 0 ? 1 : 0;
                }
            }

            for (int i = 0; i < n.GetLength(0); i++)
            {
                for (int j = 0; j < n.GetLength(1); j++)
                {
                    g += n[i, j] > 0 ? 2 * n[i, j] * Math.Log(n[i, j] * total / (rows[i] * cols[j])) : 0;
                }
            }

            string where = $"seed {data.Seed}, [{x}, {y}], empty {empty}";
            Assert.Equal(total, table.Samples);
            Assert.Equal(cells, table.NonzeroCells);
            Assert.Equal(dof, table.DegreesOfFreedom);
            Assert.True(Math.Abs(table.GStatistic - g) <= 1e-10 * g, where); // <=: a table drawn exactly independent has G = 0 (seed 42015)
            double survival = dof == 2 ? Math.Exp(-g / 2) : Math.Exp(-g / 2) * (1 + (g / 2));
            Assert.True(Math.Abs(table.PValue - survival) < 1e-12 + (1e-9 * survival), $"{where}: p {table.PValue} against {survival}");
            double mm = (g / (2 * total)) + ((x - 1) + (y - 1) - (cells - 1)) / (2 * total);
            Assert.True(Math.Abs(table.MillerMadowMutualInformation(InfoUnit.Nats) - mm) < 1e-12, where);
        }
    }

    [Fact]
    public void Independent_counts_have_p_value_one_and_a_negative_corrected_information()
    {
        var table = ContingencyTable.FromCounts(new double[,] { { 10, 20 }, { 30, 60 } });
        Assert.True(table.GStatistic < 1e-12);
        Assert.Equal(1, table.PValue, 1e-9);
        Assert.True(table.MillerMadowMutualInformation() < 0, "Miller-Madow is not clamped at 0");
        Assert.Equal(1, ContingencyTable.FromCounts(new double[,] { { 5, 0 }, { 0, 0 } }).PValue);
    }

    [Theory]
    [InlineData(1.5, "is 1.5")]
    [InlineData(-1, "is -1")]
    [InlineData(double.NaN, "is NaN")]
    [InlineData(double.PositiveInfinity, "is Infinity")]
    public void Counts_that_are_not_whole_non_negative_numbers_are_refused(double bad, string shown)
    {
        var e = Assert.Throws<InvalidInputException>(() => ContingencyTable.FromCounts(new[,] { { 1, 2 }, { 3, bad } }));
        Assert.Contains($"entry [1, 1] {shown}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mi_verb_reports_the_table_and_names_the_file_of_a_bad_count()
    {
        string path = _dir.File("counts.npy");
        NpyFormat.Write(path, new long[] { 30, 10, 5, 55 }.AsSpan(), [2, 2]);
        var report = CliRunner.Json("mi", "--joint", path, "--counts");
        var table = ContingencyTable.FromCounts(new double[,] { { 30, 10 }, { 5, 55 } });
        Assert.Equal(table.Joint.MutualInformation(), CliRunner.Number(report["i_xy_bits"]), 1e-15);
        Assert.Equal(100, CliRunner.Number(report["samples"]));
        Assert.Equal(1, CliRunner.Number(report["degrees_of_freedom"]));
        Assert.Equal(table.PValue, CliRunner.Number(report["p_value"]), 1e-20);

        var plain = CliRunner.Json("mi", "--joint", path);
        Assert.Null(plain["p_value"]);
        Assert.Equal(CliRunner.Number(report["h_xy_bits"]), CliRunner.Number(plain["h_xy_bits"]));

        string fraction = _dir.File("fraction.npy");
        NpyFormat.Write(fraction, new[] { 1.0, 2.5, 3.0, 4.0 }.AsSpan(), [2, 2]);
        CliRunner.Fails(3, [fraction, "entry [0, 1] is 2.5", "whole numbers"], "mi", "--joint", fraction, "--counts");
        Assert.Equal(0, CliRunner.Run("mi", "--joint", fraction).Code);
        Assert.Equal(2, CliRunner.Run("mi", "--joint", fraction, "--device", "cpu").Code);

        // A flattened table read as one row would give I(X;Y) = 0.
        string vector = _dir.File("vector.npy");
        NpyFormat.Write(vector, new long[] { 30, 10, 5, 55 }.AsSpan(), [4]);
        CliRunner.Fails(3, [vector, "a table of counts must be a matrix [X, Y]", "[4]"], "mi", "--joint", vector, "--counts");
    }

    private static (double Hx, double Hy, double Hxy, double HyGivenX, double HxGivenY, double I) Reference(double[,] w)
    {
        int x = w.GetLength(0), y = w.GetLength(1);
        double total = 0;
        foreach (double v in w)
        {
            total += v;
        }

        var px = new double[x];
        var py = new double[y];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                px[i] += w[i, j] / total;
                py[j] += w[i, j] / total;
            }
        }

        double hx = px.Where(p => p > 0).Sum(p => -p * Math.Log(p)), hy = py.Where(p => p > 0).Sum(p => -p * Math.Log(p));
        double hxy = 0, hyx = 0, hxgy = 0, mi = 0;
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                double p = w[i, j] / total;
                if (p > 0)
                {
                    hxy -= p * Math.Log(p);
                    hyx -= p * Math.Log(p / px[i]);
                    hxgy -= p * Math.Log(p / py[j]);
                    mi += p * Math.Log(p / (px[i] * py[j]));
                }
            }
        }

        return (hx, hy, hxy, hyx, hxgy, mi);
    }
}
