using System.Buffers.Binary;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Formats;

/// <summary>
/// llama.cpp's .kld base files: written by KldFormat.Write (gpuinfo convert), read as a row source,
/// compared against .npy logits of the same tokens; every figure checked against a float64
/// recomputation from the dequantized log-probabilities, parsed here independently of the library.
/// </summary>
public sealed class KldFormatTests : IDisposable
{
    private const int Chunks = 2, Context = 40, Vocab = 203;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_kld_base_against_npy_test_logits_matches_float64_from_the_dequantized_rows()
    {
        var data = new TestData();
        var (kld, tokens, logits) = WriteKld(data, "base.kld");
        int stored = Context - 1 - (Context / 2);
        int rows = Chunks * stored;
        var test = new float[rows * Vocab];
        var targets = new long[rows];
        for (int c = 0; c < Chunks; c++)
        {
            for (int r = 0; r < stored; r++)
            {
                int position = (Context / 2) + r, row = (c * stored) + r;
                for (int j = 0; j < Vocab; j++)
                {
                    test[(row * Vocab) + j] = logits[(((c * Context) + position) * Vocab) + j] + (float)(data.Rng.NextDouble() - 0.5);
                }

                targets[row] = tokens[(c * Context) + position + 1];
            }
        }

        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        using var source = KldRowSource.Open(kld);
        Assert.Equal(rows, source.Rows);
        var t = CorpusRun.Compare(engine, source, MemoryRowSource.Float32(test, Vocab)).Comparison!;

        var dequantized = Dequantize(File.ReadAllBytes(kld), rows);
        double klSum = 0, klSq = 0, nllB = 0, nllT = 0, dp = 0, dp2 = 0;
        var kls = new float[rows];
        var dps = new float[rows];
        int same = 0;
        for (int i = 0; i < rows; i++)
        {
            var zp = Reference64.Scaled(dequantized.AsSpan(i * Vocab, Vocab), 1);
            var zq = Reference64.Scaled(test.AsSpan(i * Vocab, Vocab), 1);
            double kl = Reference64.Kl(zp, zq);
            kls[i] = (float)kl;
            klSum += kl;
            klSq += kl * kl;
            double b = -Reference64.LogSoftmax(zp)[targets[i]], q = -Reference64.LogSoftmax(zq)[targets[i]];
            nllB += b;
            nllT += q;
            dp += Math.Exp(-q) - Math.Exp(-b);
            dps[i] = (float)(Math.Exp(-q) - Math.Exp(-b));
            dp2 += Math.Pow(Math.Exp(-q) - Math.Exp(-b), 2);
            same += Reference64.ArgMax(dequantized.AsSpan(i * Vocab, Vocab)) == Reference64.ArgMax(test.AsSpan(i * Vocab, Vocab)) ? 1 : 0;
        }

        Close(klSum / rows, t.MeanKl, "mean KLD", data.Seed);
        Close(Uncertainty.Mean(klSum, klSq, rows).Error, t.MeanKlError, "KLD SE", data.Seed, 0, 2e-4); // Σx²/n − x̄² cancels: the float32 per-token KLs' error grows
        Close(Math.Exp(nllB / rows), t.PerplexityBase, "PPL(base)", data.Seed);
        Close(Math.Exp(nllT / rows), t.PerplexityTest, "PPL(test)", data.Seed);
        Close(dp / rows, t.MeanDeltaP, "mean delta-p", data.Seed, 1e-6);
        // Δp comes from float32 per-token values (a log-ratio good to ~1e-6, times p): ~1e-7 absolute.
        Close(Math.Sqrt(dp2 / rows), t.RmsDeltaP, "RMS delta-p", data.Seed, 1e-6);
        Assert.Equal(same, t.SameTop1);
        Array.Sort(kls);
        Array.Sort(dps);
        foreach (var (name, value) in t.KlPercentiles())
        {
            // One row's KL in float32 from log-probs near -16 (ulp 1.9e-6) errs by up to ~2e-6 absolute (seed 509412706: 2.2e-6 at 0.065).
            Close(Percentiles.OfSorted(kls, Percentiles.Standard.Single(p => p.Name == name).Percent), value, $"KLD {name}", data.Seed, 5e-6);
        }

        foreach (var (name, value) in t.DeltaPPercentiles())
        {
            Close(Percentiles.OfSorted(dps, Percentiles.DeltaP.Single(p => p.Name == name).Percent), value, $"delta-p {name}", data.Seed, 1e-6);
        }

        var merged = CorpusPartial.Merge(Enumerable.Range(0, 3).Select(i =>
            CorpusRun.Compare(engine, source, MemoryRowSource.Float32(test, Vocab), run: new CorpusRunOptions { Shard = new Shard(i, 3), ChunkBytes = 7 * Vocab * 4 }))).Comparison!;
        Assert.Equal(t.KlSum, merged.KlSum);
        Assert.Equal(t.NllSumBase, merged.NllSumBase);
        Assert.Equal(t.PerplexityDifferenceError, merged.PerplexityDifferenceError);
    }

    [Fact]
    public void Rows_wider_than_a_read_piece_are_read_whole_in_every_chunk()
    {
        // 600 KB rows: the source reads one row a piece, in chunks of 5 rows that do not divide the 38.
        const int vocab = 300_007;
        var data = new TestData();
        var (kld, tokens, _) = WriteKld(data, "wide.kld", vocab);
        int rows = Chunks * (Context - 1 - (Context / 2));
        var dequantized = Dequantize(File.ReadAllBytes(kld), rows, out int[] targets);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        using var source = KldRowSource.Open(kld);
        var nll = new float[rows];
        var chunks = new List<long>();
        CorpusRun.Evaluate(engine, source, run: new CorpusRunOptions
        {
            ChunkBytes = 5 * source.RowBytes,
            PerRow = (first, values) =>
            {
                chunks.Add(first);
                values.CopyTo(nll.AsSpan((int)first));
            },
        });
        Assert.Equal(Enumerable.Range(0, 8).Select(c => 5L * c), chunks);
        for (int i = 0; i < rows; i++)
        {
            var z = Reference64.Scaled(dequantized.AsSpan(i * vocab, vocab), 1);
            Assert.Equal(Reference64.Lse(z) - z[targets[i]], nll[i], 1e-5 * Math.Max(1, nll[i]));
        }

        Assert.Equal(tokens[(Context / 2) + 1], targets[0]);
    }

    [Fact]
    public void Dequantized_rows_stay_within_the_quantization_step_of_the_logits_log_softmax()
    {
        var data = new TestData();
        var (kld, _, logits) = WriteKld(data, "base.kld");
        using var source = KldRowSource.Open(kld);
        var rows = Dequantize(File.ReadAllBytes(kld), (int)source.Rows);
        int stored = Context - 1 - (Context / 2);
        for (int row = 0; row < source.Rows; row++)
        {
            int c = row / stored, position = (Context / 2) + (row % stored);
            var z = Reference64.LogSoftmax(Reference64.Scaled(logits.AsSpan(((c * Context) + position) * Vocab, Vocab), 1));
            for (int j = 0; j < Vocab; j++)
            {
                if (z[j] > z.Max() - 15.99)
                {
                    Assert.True(Math.Abs(rows[(row * Vocab) + j] - z[j]) <= (16.0 / 65535 / 2) + 1e-5, $"row {row}, entry {j}: {rows[(row * Vocab) + j]} vs {z[j]} (seed {data.Seed})");
                }
            }
        }
    }

    [Fact]
    public void The_cli_compares_kld_files_and_reports_bad_ones_in_one_line()
    {
        var data = new TestData();
        var (kld, _, _) = WriteKld(data, "base.kld");
        var report = CliRunner.Json("compare", "--base", kld, "--test", kld, "--device", "cpu");
        Assert.Equal((Context - 1 - (Context / 2)) * Chunks, report["tokens"]!.GetValue<long>());
        Assert.True(CliRunner.Number(report["mean_kld"]) < 1e-6);
        var eval = CliRunner.Json("eval", "--logits", kld, "--device", "cpu");
        Assert.Equal(CliRunner.Number(report["ppl_base"]), CliRunner.Number(eval["perplexity"]), 1e-9);

        var bytes = File.ReadAllBytes(kld);
        string truncated = _dir.File("truncated.kld");
        File.WriteAllBytes(truncated, bytes[..^10]);
        Fails(["truncated.kld", "truncated"], "compare", "--base", truncated, "--test", kld);
        string token = _dir.File("token.kld");
        var edited = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(edited.AsSpan(20 + (4 * 7)), Vocab + 5);
        File.WriteAllBytes(token, edited);
        Fails(["token.kld", "token 7", "outside the vocabulary"], "eval", "--logits", token);
        var (other, _, _) = WriteKld(data, "other.kld", vocab: Vocab + 1);
        Fails(["other.kld", "vocabulary"], "compare", "--base", kld, "--test", other);
        Fails(["takes no targets"], "compare", "--base", kld, "--test", kld, "--targets", kld);

        // A row whose minimum is far above 0 was read as uniform (its values, 1e30 plus steps below float32's, all equal).
        string above = _dir.File("above.kld");
        edited = (byte[])bytes.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(edited.AsSpan(20 + (4 * Context * Chunks) + 4), 1e30f);
        File.WriteAllBytes(above, edited);
        Fails(["above.kld", "row 0", "at most 0"], "eval", "--logits", above);
    }

    private (string Path, int[] Tokens, float[] Logits) WriteKld(TestData data, string name, int vocab = Vocab)
    {
        var logits = data.Logits(Chunks * Context, vocab, 4.0);
        var tokens = Enumerable.Range(0, Chunks * Context).Select(_ => data.Rng.Next(vocab)).ToArray();
        string path = _dir.File(name);
        KldFormat.Write(path, Context, vocab, tokens, (c, position, row) => logits.AsSpan(((c * Context) + position) * vocab, vocab).CopyTo(row));
        return (path, tokens, logits);
    }

    /// <summary>The rows as the docs say they are read, from the raw bytes (independent of KldFormat).</summary>
    private static float[] Dequantize(byte[] file, int rows) => Dequantize(file, rows, out _);

    private static float[] Dequantize(byte[] file, int rows, out int[] targets)
    {
        int context = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8)), vocab = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(12));
        int chunks = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(16)), stored = context - 1 - (context / 2);
        int values = (2 * ((vocab + 1) / 2)) + 4;
        long data = 20 + (4L * context * chunks);
        var result = new float[rows * vocab];
        targets = new int[rows];
        for (int row = 0; row < rows; row++)
        {
            var r = file.AsSpan((int)(data + (2L * values * row)));
            float scale = BinaryPrimitives.ReadSingleLittleEndian(r), min = BinaryPrimitives.ReadSingleLittleEndian(r[4..]);
            int c = row / stored, target = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(20 + (4 * ((c * context) + (context / 2) + (row % stored) + 1))));
            targets[row] = target;
            bool capped = Math.Abs(scale - (16.0 / 65535)) < 1e-9;
            int zeros = 0;
            for (int j = 0; j < vocab; j++)
            {
                zeros += BinaryPrimitives.ReadUInt16LittleEndian(r[(8 + (2 * j))..]) == 0 ? 1 : 0;
            }

            for (int j = 0; j < vocab; j++)
            {
                int q = BinaryPrimitives.ReadUInt16LittleEndian(r[(8 + (2 * j))..]);
                result[(row * vocab) + j] = q != 0 || !capped ? (float)((double)scale * q + min)
                    : j == target ? min : (float)(min - Math.Log(zeros));
            }
        }

        return result;
    }

    private static void Close(double expected, double actual, string what, int seed, double absolute = 0, double relative = 2e-5) =>
        Assert.True(Math.Abs(actual - expected) <= (relative * Math.Abs(expected)) + absolute + 1e-12, $"{what}: float64 {expected:R}, gpuinfo {actual:R} (seed {seed})");

    private static void Fails(string[] fragments, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run([.. args, "--device", "cpu"]);
        Assert.True(code is 2 or 3, $"exit {code}: {stderr}");
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        foreach (var f in fragments)
        {
            Assert.Contains(f, stderr, StringComparison.Ordinal);
        }
    }
}
