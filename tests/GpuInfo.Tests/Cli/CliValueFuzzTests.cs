using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// Well-formed files holding awkward values (NaN, ±inf, negatives, zeros, subnormals, huge
/// magnitudes, rows of zeros, out-of-range targets) and awkward options, through every verb that
/// reads them: each run must give a report with no NaN in it, or fail as bad data or a usage error
/// (exit 3 or 2, one line), never as an internal error.
/// </summary>
public sealed class CliValueFuzzTests : IDisposable
{
    private static readonly double[] Awkward = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1, 0, 0, 0, 1e-310, 1e-200, 1e-40, 1e30, 1e300, 3e38, -3e38, 0.5, 7];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Distribution_verbs_report_or_refuse_awkward_matrices()
    {
        int reported = 0, refused = 0;
        for (int m = 0; m < 300; m++)
        {
            var rng = new Random(9000 + m);
            int rows = rng.Next(1, 6), cols = rng.Next(1, 6);
            var matrix = Matrix(rng, rows, cols);
            string joint = _dir.File("m.npy"), vector = _dir.File("v.npy");
            NpyFormat.Write(joint, matrix.AsSpan(), [rows, cols]);
            NpyFormat.Write(vector, Matrix(rng, 1, rows).AsSpan(), [rows]);
            string beta = rng.Next(4) switch { 0 => "0", 1 => "1e6", 2 => "0.5", _ => "5" };
            string[][] runs =
            [
                ["mi", "--joint", joint],
                ["mi", "--joint", joint, "--counts"],
                ["ib", "--joint", joint, "--beta", beta, "--clusters", rng.Next(1, 4).ToString(), "--max-iterations", "50", "--device", "cpu"],
                ["ib", "--joint", joint, "--beta", beta, "--alpha", "0", "--max-iterations", "50", "--device", "cpu"],
                ["ib-curve", "--joint", joint, "--beta-min", "0.1", "--beta-max", beta == "0" ? "1" : beta, "--steps", "3", "--max-iterations", "30", "--device", "cpu"],
                ["rd", "--source", vector, "--distortion", joint, "--beta", beta, "--max-iterations", "200", "--device", "cpu"],
                ["capacity", "--channel", joint, "--max-iterations", "200", "--device", "cpu"],
            ];
            foreach (var run in runs)
            {
                var (code, stdout, stderr) = CliRunner.Run([.. run, "--json"]);
                Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"seed {9000 + m}: gpuinfo {string.Join(' ', run)} on {Show(matrix, cols)}", [ExitCode.Usage, ExitCode.BadData]);
                (code == 0 ? ref reported : ref refused)++;
                if (code == 0 && run[0] == "mi")
                {
                    CheckInformation(matrix, rows, cols, (JsonObject)JsonNode.Parse(stdout)!, $"seed {9000 + m}: mi on {Show(matrix, cols)}");
                }
            }
        }

        Assert.True(reported > 0 && refused > 0, $"the fuzzer should produce both usable and refused inputs ({reported} reported, {refused} refused)");
    }

    /// <summary>The reported entropies and I(X;Y) against float64 sums of logs, computed here.</summary>
    private static void CheckInformation(double[] weights, int rows, int cols, JsonObject report, string what)
    {
        double total = weights.Sum();
        var p = weights.Select(w => w / total).ToArray();
        var px = Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, cols).Sum(j => p[(i * cols) + j])).ToArray();
        var py = Enumerable.Range(0, cols).Select(j => Enumerable.Range(0, rows).Sum(i => p[(i * cols) + j])).ToArray();
        static double H(IEnumerable<double> q) => -q.Where(v => v > 0).Sum(v => v * Math.Log2(v));
        double information = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double v = p[(i * cols) + j];
                information += v > 0 ? v * (Math.Log2(v) - Math.Log2(px[i]) - Math.Log2(py[j])) : 0;
            }
        }

        foreach (var (name, expected) in new[] { ("h_x_bits", H(px)), ("h_y_bits", H(py)), ("h_xy_bits", H(p)), ("i_xy_bits", Math.Max(0, information)) })
        {
            double actual = CliRunner.Number(report[name]);
            Assert.True(Math.Abs(actual - expected) <= 1e-12 + (1e-9 * Math.Abs(expected)), $"{what}: {name} {actual}, float64 {expected}");
        }
    }

    [Fact]
    public void Row_verbs_report_or_refuse_awkward_logits_and_targets()
    {
        int reported = 0, refused = 0;
        for (int m = 0; m < 200; m++)
        {
            var rng = new Random(11000 + m);
            int rows = rng.Next(1, 5), vocab = rng.Next(1, 9);
            string p = _dir.File("p.npy"), q = _dir.File("q.npy"), y = _dir.File("y.npy");
            NpyFormat.Write(p, Logits(rng, rows * vocab).AsSpan(), [rows, vocab]);
            NpyFormat.Write(q, Logits(rng, rows * vocab).AsSpan(), [rows, vocab]);
            NpyFormat.Write(y, Enumerable.Range(0, rows).Select(_ => rng.Next(8) switch { 0 => -100L, 1 => vocab, 2 => -1, 3 => long.MaxValue, _ => rng.Next(vocab) }).ToArray().AsSpan(), [rows]);
            string probs = _dir.File("probs.npy"), weights = _dir.File("w.npy"), bytes = _dir.File("bytes.npy");
            var rowsOfP = Enumerable.Range(0, rows).SelectMany(_ =>
            {
                var row = Enumerable.Range(0, vocab).Select(_ => rng.NextDouble()).ToArray();
                double sum = row.Sum();
                return row.Select(v => (float)(rng.Next(6) == 0 ? Awkward[rng.Next(Awkward.Length)] : v / sum));
            }).ToArray();
            NpyFormat.Write(probs, rowsOfP.AsSpan(), [rows, vocab]);
            NpyFormat.Write(weights, Matrix(rng, 1, rng.Next(6) == 0 ? rows + 1 : rows).AsSpan(), [rng.Next(6) == 0 ? rows + 1 : rows]);
            NpyFormat.Write(bytes, Enumerable.Range(0, rows).Select(_ => rng.Next(6) == 0 ? -rng.Next(3) : rng.Next(1, 9)).ToArray().AsSpan(), [rows]);
            string temperature = rng.Next(5) switch { 0 => "1e-30", 1 => "1e30", 2 => "0.05", _ => "1" };
            string smoothing = rng.Next(4) switch { 0 => "1", 1 => "0.5", _ => "0" };
            string[][] runs =
            [
                ["eval", "--logits", p, "--targets", y, "--temperature", temperature, "--label-smoothing", smoothing, "--top-k", "1,3", "--device", "cpu"],
                ["eval", "--logits", p, "--targets", y, "--temperature", temperature, "--device", "ilgpu-cpu"],
                ["compare", "--base", p, "--test", q, "--targets", y, "--temperature", temperature, "--top-k", "2", "--device", "cpu"],
                ["compare", "--base", p, "--test", q, "--temperature", temperature, "--device", "ilgpu-cpu"],
                ["ib", "--logits", p, "--temperature", temperature, "--beta", "3", "--clusters", "2", "--max-iterations", "20", "--device", "cpu"],
                ["ib", "--probs", probs, "--weights", weights, "--beta", "3", "--clusters", "2", "--max-iterations", "20", "--device", "cpu"],
                ["ib-curve", "--probs", probs, "--beta-min", "0.5", "--beta-max", "8", "--steps", "3", "--max-iterations", "20", "--device", "cpu"],
                ["eval", "--logits", p, "--targets", y, "--bytes", bytes, "--device", "cpu"],
                ["eval", "--logits", p, "--targets", y, "--total-bytes", rng.Next(3).ToString(), "--total-words", rng.Next(-1, 3).ToString(), "--device", "cpu"],
            ];
            // The kernels' edge cases are EdgeCaseTests' per backend; here ILGPU's slow CPU accelerator runs a sample.
            foreach (var run in runs.Where(r => m % 20 == 0 || !r.Contains("ilgpu-cpu")))
            {
                var (code, stdout, stderr) = CliRunner.Run([.. run, "--json"]);
                Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"seed {11000 + m}: gpuinfo {string.Join(' ', run)}", [ExitCode.Usage, ExitCode.BadData]);
                (code == 0 ? ref reported : ref refused)++;
            }
        }

        Assert.True(reported > 0 && refused > 0, $"the fuzzer should produce both usable and refused inputs ({reported} reported, {refused} refused)");
    }

    private static double[] Matrix(Random rng, int rows, int cols)
    {
        var m = new double[rows * cols];
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = rng.Next(3) == 0 ? Awkward[rng.Next(Awkward.Length)] : rng.Next(4) == 0 ? rng.Next(0, 5) : rng.NextDouble();
        }

        return m;
    }

    private static float[] Logits(Random rng, int count)
    {
        var z = new float[count];
        for (int i = 0; i < z.Length; i++)
        {
            z[i] = rng.Next(4) == 0 ? (float)Awkward[rng.Next(Awkward.Length)] : (float)((rng.NextDouble() - 0.5) * 10);
        }

        return z;
    }

    private static string Show(double[] m, int cols) =>
        "[" + string.Join("; ", m.Chunk(cols).Select(r => string.Join(", ", r.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))))) + "]";
}
