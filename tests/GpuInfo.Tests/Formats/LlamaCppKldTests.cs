using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;

namespace GpuInfo.Tests.Formats;

/// <summary>
/// Files written by a real llama.cpp (LlamaCpp/, see its README): a tiny model's base.kld, its Q4_0
/// copy's test.kld, llama-perplexity's KL-divergence report of the Q4_0 model against base.kld
/// (kld_report.txt) and the base run's log (base_run.txt). gpuinfo must read llama.cpp's files and
/// give llama.cpp's figures, within what the .kld format's quantization explains.
/// </summary>
/// <remarks>
/// The tolerances. llama.cpp scores the test model from its float logits; gpuinfo reads them from
/// test.kld, each log-probability within half a step h = 16/65535/2 = 1.22e-4 nats of the float one,
/// and renormalises every row it reads (a row of entries each within h sums to within e^±h of 1, so
/// that moves each entry by at most h more); llama.cpp takes base.kld's values as they are. So a
/// token's log q moves by at most 2h and log p by at most h: its NLLs and KL by at most 3h (KL's
/// terms are weighted by p, which sums to 1; the tail llama.cpp skips below −16 weighs at most
/// 301·e^−16), its p(target), and so Δp, by at most 3h·p ≤ 3h. A mean moves by no more than its
/// terms; an order statistic, and so any percentile, too; a standard error (a standard deviation
/// over √(n−1)) by at most that over √(n−1). On top comes the rounding of llama.cpp's printed digits.
/// Same top p can differ only on rows whose top is tied in test.kld (two entries within h of the max
/// both stored as 65535: gpuinfo takes the first, llama.cpp the float logits' max).
/// </remarks>
public sealed class LlamaCppKldTests
{
    private const double HalfStep = 16.0 / 65535 / 2;
    private const double Shift = 3 * HalfStep;

    private static string FileOf(string name) => Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", name);

    private static readonly Dictionary<string, Figure> LlamaCpp = Parse(File.ReadAllText(FileOf("kld_report.txt")));

    [Fact]
    public void The_report_holds_every_figure_llama_cpp_prints()
    {
        Assert.Equal(6 + 12 + 16, LlamaCpp.Count);
        Assert.Equal(15.337045, LlamaCpp["Mean PPL(base)"].Value);
        Assert.Equal(-0.20943, LlamaCpp["Minimum Δp"].Value, 12);
    }

    [Fact]
    public void Compare_of_llama_cpp_files_gives_llama_cpp_figures()
    {
        var r = CliRunner.Json("compare", "--base", FileOf("base.kld"), "--test", FileOf("test.kld"), "--device", "cpu");
        long n = (long)CliRunner.Number(r["tokens"]);
        Assert.Equal(10 * (64 - 1 - 32), n);
        double se = Shift / Math.Sqrt(n - 1);

        // Perplexities on the log scale: ln PPL is the mean NLL, SE(ln PPL) = PPL's ± / PPL.
        Ln("Mean PPL(Q)", Get(r, "ppl_test"), Get(r, "ppl_test_se"), Shift, se);
        Ln("Mean PPL(base)", Get(r, "ppl_base"), Get(r, "ppl_base_se"), Shift, se);
        Close("Mean ln(PPL(Q)/PPL(base))", Get(r, "mean_ln_ppl_ratio"), Get(r, "mean_ln_ppl_ratio_se"), 2 * Shift, 2 * se);
        Ln("Mean PPL(Q)/PPL(base)", Get(r, "ppl_ratio"), Get(r, "ppl_ratio_se"), 2 * Shift, 2 * se);
        double ppl = Get(r, "ppl_test");
        Close("Mean PPL(Q)-PPL(base)", Get(r, "ppl_diff"), Get(r, "ppl_diff_se"), 2 * ppl * 2 * Shift, 2 * ppl * 2 * se);

        // A correlation of NLLs whose spread is σ moves by about 2·shift/σ when each NLL moves by shift.
        double sigma = Get(r, "ppl_base_se") / Get(r, "ppl_base") * Math.Sqrt(n - 1);
        Close("Cor(ln(PPL(Q)), ln(PPL(base)))", Get(r, "cor_ln_ppl"), double.NaN, 2 * Shift / sigma, 0);

        Close("Mean KLD", Get(r, "mean_kld"), Get(r, "mean_kld_se"), Shift, se);
        foreach (var (name, label) in PercentileLabels)
        {
            Close(label + " KLD", Get((JsonObject)r["kld_percentiles"]!, name), double.NaN, Shift, 0);
        }

        Close("Mean Δp", Get(r, "mean_delta_p"), Get(r, "mean_delta_p_se"), Shift, se);
        foreach (var (name, label) in PercentileLabels.Append(("p75", "75.0%")).Append(("p25", "25.0%")))
        {
            Close(label + " Δp", Get((JsonObject)r["delta_p_percentiles"]!, name), double.NaN, Shift, 0);
        }

        Close("RMS Δp", Get(r, "rms_delta_p"), Get(r, "rms_delta_p_se"), Shift, se);

        int tied = TiedTopRows(FileOf("test.kld"));
        Assert.Equal(1, tied); // row 243: tokens 32 and 111 both stored at 65535
        double sameTop = Get(r, "same_top1");
        Close("Same top p", sameTop, Get(r, "same_top1_se"), (double)tied / n, 0.5 / Math.Sqrt(n * (n - 1.0)));
    }

    [Fact]
    public void Compare_text_reads_as_llama_cpp_report()
    {
        var (code, stdout, stderr) = CliRunner.Run("compare", "--base", FileOf("base.kld"), "--test", FileOf("test.kld"), "--device", "cpu");
        Assert.True(code == 0, stderr);
        var ours = Parse(stdout);
        foreach (var (label, theirs) in LlamaCpp)
        {
            Assert.True(ours.TryGetValue(label, out var mine), $"'{label}' is missing from gpuinfo's table:\n{stdout}");
            // The table prints llama.cpp's digits: figures agree to within both roundings and the tolerances above.
            double tolerance = theirs.HalfUnit + mine.HalfUnit + (label == "Same top p" ? 1.0 / 310 : 2 * Shift * Math.Max(1, Math.Abs(theirs.Value)));
            Assert.True(Math.Abs(mine.Value - theirs.Value) <= tolerance, $"{label}: gpuinfo {mine.Value}, llama.cpp {theirs.Value}");
        }
    }

    [Fact]
    public void Eval_of_a_llama_cpp_base_file_gives_its_base_perplexity()
    {
        var r = CliRunner.Json("eval", "--logits", FileOf("base.kld"), "--device", "cpu");
        Assert.Equal(310, (long)CliRunner.Number(r["tokens"]));
        double se = Shift / Math.Sqrt(309);

        // Against the KL run's PPL(base), from the same stored values: only the renormalisation (h) differs.
        Ln("Mean PPL(base)", Get(r, "perplexity"), Get(r, "perplexity_se"), HalfStep, HalfStep / Math.Sqrt(309));

        // Against the base run's own estimate from its float logits: the storage (h) and renormalisation (h).
        var line = File.ReadLines(FileOf("base_run.txt")).Single(l => l.Contains("Final estimate", StringComparison.Ordinal));
        var m = Regex.Match(line, @"PPL = ([0-9.]+) \+/- ([0-9.]+)");
        double ppl = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), pplSe = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(Math.Log(Get(r, "perplexity") / ppl)) <= (2 * HalfStep) + (0.5e-4 / ppl), $"PPL {Get(r, "perplexity")} vs the base run's {ppl}");
        Assert.True(Math.Abs((Get(r, "perplexity_se") / Get(r, "perplexity")) - (pplSe / ppl)) <= se + (0.5e-5 / ppl), $"PPL SE {Get(r, "perplexity_se")} vs {pplSe}");
    }

    [Fact]
    public void Writing_the_base_file_again_from_its_own_rows_keeps_llama_cpp_steps()
    {
        // Re-quantizing the dequantized rows must give llama.cpp's steps back (within one step, and the
        // scale within an ulp); min, which holds the row's log-sum-exp, moves by the dequantized row's
        // distance from a sum of 1 (at most h).
        using var source = KldRowSource.Open(FileOf("base.kld"));
        var f = source.Format;
        var rows = new float[source.Rows * f.Vocab];
        var block = new RowBlock((int)source.Rows, source.Vocab, source.Type, true);
        block.Reset(0, (int)source.Rows);
        source.Read(block);
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(block.Buffer)[..rows.Length].CopyTo(rows);

        string path = Path.Combine(Path.GetTempPath(), $"gpuinfo-llama-{Guid.NewGuid():N}.kld");
        try
        {
            KldFormat.Write(path, f.Context, f.Vocab, f.Tokens, (c, position, row) =>
                rows.AsSpan((int)(((c * (long)f.RowsPerChunk) + position - (f.Context / 2)) * f.Vocab), f.Vocab).CopyTo(row));
            byte[] theirs = File.ReadAllBytes(FileOf("base.kld")), ours = File.ReadAllBytes(path);
            Assert.Equal(theirs.Length, ours.Length);
            Assert.True(theirs.AsSpan(0, (int)f.DataOffset).SequenceEqual(ours.AsSpan(0, (int)f.DataOffset)), "header or tokens differ");
            for (long r = 0; r < f.Rows; r++)
            {
                int at = (int)(f.DataOffset + (r * f.RowBytes));
                // The reader dequantizes with a fused multiply-add, so a row's max, and with it the scale, may move by an ulp.
                Assert.True(Math.Abs((BitConverter.ToSingle(ours, at) / BitConverter.ToSingle(theirs, at)) - 1) <= 1e-6, $"row {r}: scale");
                Assert.True(Math.Abs(BitConverter.ToSingle(theirs, at + 4) - BitConverter.ToSingle(ours, at + 4)) <= HalfStep, $"row {r}: min");
                for (int i = 0; i < f.Vocab; i++)
                {
                    int a = BitConverter.ToUInt16(theirs, at + 8 + (2 * i)), b = BitConverter.ToUInt16(ours, at + 8 + (2 * i));
                    Assert.True(Math.Abs(a - b) <= 1, $"row {r}, entry {i}: step {b}, llama.cpp's {a}");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly (string Name, string Label)[] PercentileLabels =
    [
        ("max", "Maximum"), ("p99.9", "99.9%"), ("p99", "99.0%"), ("p95", "95.0%"), ("p90", "90.0%"), ("median", "Median"),
        ("p10", "10.0%"), ("p5", "5.0%"), ("p1", "1.0%"), ("p0.1", "0.1%"), ("min", "Minimum"),
    ];

    /// <summary>Rows of a .kld file whose largest step, 65535, is held by more than one entry.</summary>
    private static int TiedTopRows(string path)
    {
        var f = KldFormat.Read(path);
        byte[] bytes = File.ReadAllBytes(path);
        int tied = 0;
        for (long r = 0; r < f.Rows; r++)
        {
            var q = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan((int)(f.DataOffset + (r * f.RowBytes) + 8), f.Vocab * 2));
            tied += q.Count((ushort)65535) > 1 ? 1 : 0;
        }

        return tied;
    }

    private static double Get(JsonObject o, string key) => CliRunner.Number(o[key]);

    /// <summary>A figure given as e^x ± e^x·s, compared on the log scale.</summary>
    private static void Ln(string label, double value, double error, double tolerance, double errorTolerance)
    {
        var theirs = LlamaCpp[label];
        Assert.True(Math.Abs(Math.Log(value / theirs.Value)) <= tolerance + (theirs.HalfUnit / theirs.Value),
            $"{label}: gpuinfo {value}, llama.cpp {theirs.Value}");
        Assert.True(Math.Abs((error / value) - (theirs.Error / theirs.Value)) <= errorTolerance + (theirs.HalfUnit / theirs.Value),
            $"{label} ±: gpuinfo {error}, llama.cpp {theirs.Error}");
    }

    private static void Close(string label, double value, double error, double tolerance, double errorTolerance)
    {
        var theirs = LlamaCpp[label];
        Assert.True(Math.Abs(value - theirs.Value) <= tolerance + theirs.HalfUnit, $"{label}: gpuinfo {value}, llama.cpp {theirs.Value}");
        if (!double.IsNaN(error))
        {
            Assert.True(Math.Abs(error - theirs.Error) <= errorTolerance + theirs.HalfUnit, $"{label} ±: gpuinfo {error}, llama.cpp {theirs.Error}");
        }
    }

    /// <summary>One printed figure: its value, its ± if any (both as fractions where printed in %), and half its last digit.</summary>
    private sealed record Figure(double Value, double Error, double HalfUnit);

    /// <summary>
    /// The summary of a llama.cpp KL-divergence report (or gpuinfo's table laid out as one): every
    /// "label: value [± error] [%]" line from "====== Perplexity statistics ======" on, keyed by the
    /// label with its runs of spaces made one.
    /// </summary>
    private static Dictionary<string, Figure> Parse(string text)
    {
        int start = text.IndexOf("====== Perplexity statistics ======", StringComparison.Ordinal);
        Assert.True(start >= 0, "no statistics in the report");
        var figures = new Dictionary<string, Figure>(StringComparer.Ordinal);
        foreach (var line in text[start..].Split('\n'))
        {
            var m = Regex.Match(line, @"^(.+?)\s*:\s+(-?[0-9]+\.([0-9]+))(?:\s*±\s*(-?[0-9]+\.[0-9]+))?\s*(%?)\s*$");
            if (!m.Success)
            {
                continue;
            }

            string label = Regex.Replace(m.Groups[1].Value.Trim(), @"\s+", " ");
            double scale = m.Groups[5].Value == "%" ? 0.01 : 1;
            double value = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * scale;
            double error = m.Groups[4].Success ? double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture) * scale : double.NaN;
            figures[label] = new Figure(value, error, 0.5 * Math.Pow(10, -m.Groups[3].Value.Length) * scale);
        }

        figures.Remove("Mean JS"); // gpuinfo's own line
        return figures;
    }
}
