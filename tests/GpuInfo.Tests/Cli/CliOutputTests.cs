using GpuInfo.Formats;
using GpuInfo.Tests.Distributions;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// What commands write: output paths checked before the work, files written whole or not at all,
/// every output an option names written, JSON without non-finite numbers, rates of nothing undefined.
/// </summary>
public sealed class CliOutputTests : IDisposable
{
    private const int Usage = 2, Data = 3;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// File names are text, not Spectre markup: a bracket in a name ("logits[0].npy", as a framework
    /// names a shard) made every table titled with it an internal error.
    /// </summary>
    [Fact]
    public void Tables_show_file_names_with_brackets()
    {
        var data = new Reference.TestData();
        string logits = _dir.File("logits[0].npy"), targets = _dir.File("targets[0].npy"), test = _dir.File("test[bold].npy");
        var x = data.Logits(6, 53);
        NpyFormat.Write<float>(logits, x, [6, 53]);
        NpyFormat.Write<float>(test, data.Perturbed(x, 0.1), [6, 53]);
        NpyFormat.Write<long>(targets, new long[6], [6]);
        string joint = _dir.File("joint[x].npy");
        NpyFormat.Write<double>(joint, [.. x.Select(v => (double)Math.Abs(v))], [6, 53]);
        foreach (string[] args in new[]
        {
            new[] { "eval", "--logits", logits, "--targets", targets, "--device", "cpu" },
            ["compare", "--base", logits, "--test", test, "--device", "cpu"],
            ["mi", "--joint", joint],
            ["inspect", logits, test],
        })
        {
            var (code, stdout, stderr) = CliRunner.Run(args);
            Assert.True(code == 0, $"{string.Join(' ', args)}: exit {code}: {stderr}");
            Assert.Equal(string.Empty, stderr);
            Assert.Contains(args[0] == "inspect" ? "float32" : "0.", stdout, StringComparison.Ordinal); // a long title is wrapped and cut to the table's width
        }
    }

    /// <summary>One line on stderr (CliRunner.Fails) also shows that no iteration ran: each prints its own line.</summary>
    [Fact]
    public void Output_and_vocab_paths_fail_before_the_solve()
    {
        string logits = Logits();
        string missingFolder = Path.Combine(_dir.File("nowhere"), "a.npy");
        CliRunner.Fails(Usage, [missingFolder, "cannot write"], "ib", "--logits", logits, "--beta", "5", "--clusters", "2", "--assignments", missingFolder);
        CliRunner.Fails(Usage, [_dir.Path, "cannot write", "folder"], "ib", "--logits", logits, "--beta", "5", "--clusters", "2", "--decoders", _dir.Path);
        CliRunner.Fails(Usage, [missingFolder, "cannot write"], "ib-curve", "--logits", logits, "--beta-min", "1", "--beta-max", "5", "--steps", "2", "--csv", missingFolder);
        CliRunner.Fails(Data, ["vocab.txt", "no such file"], "ib", "--logits", logits, "--beta", "5", "--clusters", "2", "--vocab", _dir.File("vocab.txt"));
        Assert.False(File.Exists(missingFolder));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    /// <summary>
    /// The messages named AtomicFile's hidden temporary file (.a.json.PID.GUID.tmp), and only after the
    /// whole run. A folder that is a file fails as root too, where a read-only folder would not.
    /// </summary>
    [Fact]
    public void Partial_convert_and_plot_paths_name_the_path_given_and_fail_before_the_run()
    {
        string file = _dir.File("file");
        File.WriteAllText(file, "x");
        string partial = Path.Combine(file, "a.json"), kld = Path.Combine(file, "a.kld"), plot = Path.Combine(_dir.File("nowhere"), "kl.svg");
        string logits = _dir.File("l.npy"), tokens = _dir.File("ids.npy");
        NpyFormat.Write(logits, new float[2 * 4 * 3].AsSpan(), [2, 4, 3]);
        NpyFormat.Write(tokens, new long[] { 0, 1, 2, 0, 1, 2, 0, 1 }.AsSpan(), [2, 4]);
        string[][] runs =
        [
            ["eval", "--logits", logits, "--targets", tokens, "--device", "cpu", "--partial", partial],
            ["compare", "--base", logits, "--test", logits, "--device", "cpu", "--partial", partial],
            ["convert", "--logits", logits, "--tokens", tokens, "--out", kld],
        ];
        foreach (var args in runs)
        {
            CliRunner.Fails(Usage, [args[^1], "cannot write", $"{file} is a file, not a folder"], args);
            Assert.DoesNotContain(".tmp", CliRunner.Run(args).Stderr, StringComparison.Ordinal);
        }

        CliRunner.Fails(Usage, [plot, "cannot write", "no folder"], "compare", "--base", logits, "--test", logits, "--device", "cpu", "--plot", plot);

        // --per-token and --partial-dir say the same, not .NET's "could not find a part of the path".
        CliRunner.Fails(Usage, [partial, "cannot write", $"{file} is a file, not a folder"], "eval", "--logits", logits, "--targets", tokens, "--device", "cpu", "--per-token", partial);
        foreach (string dir in new[] { file, Path.Combine(file, "parts") })
        {
            CliRunner.Fails(Usage, [dir, "cannot create the partials folder", $"{file} is a file, not a folder"], "eval", "--logits", logits, "--targets", tokens, "--device", "cpu", "--partial-dir", dir);
        }

        Assert.Equal(["file", "ids.npy", "l.npy"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>A write that fails only when it happens (a full disk) names the path given, not the temporary file beside it.</summary>
    [Fact]
    public void A_failed_atomic_write_names_the_path_given()
    {
        string file = _dir.File("file");
        File.WriteAllText(file, "x");
        string kld = Path.Combine(file, "a.kld");
        var e = Assert.ThrowsAny<IOException>(() => KldFormat.Write(kld, 2, 3, [0, 1], (_, _, row) => row.Clear()));
        Assert.Contains(kld, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ib_over_a_joint_writes_its_assignments_and_decoders()
    {
        string joint = _dir.File("joint.npy"), assignments = _dir.File("a.npy"), decoders = _dir.File("d.npy");
        double[] p = [0.2, 0.05, 0.0, 0.2, 0.05, 0.0, 0.0, 0.05, 0.2, 0.0, 0.05, 0.2];
        NpyFormat.Write(joint, p.AsSpan(), [4, 3]);
        var report = CliRunner.Json("ib", "--joint", joint, "--beta", "50", "--clusters", "2", "--assignments", assignments, "--decoders", decoders);
        Assert.Equal(2, (int)report["clusters_used"]!);
        var hard = new long[4];
        using (var file = TargetsFile.Open(assignments))
        {
            file.Read(0, hard);
        }

        Assert.Equal(hard[0], hard[1]);
        Assert.Equal(hard[2], hard[3]);
        Assert.NotEqual(hard[0], hard[2]);
        Assert.Equal([2L, 3L], NpyFormat.Read(decoders).Shape);
        var q = MatrixFile.Read(decoders);
        Assert.All(Enumerable.Range(0, 2), t => Assert.Equal(1.0, q[t, 0] + q[t, 1] + q[t, 2], 5));
        Assert.Equal(0.8, q[hard[0], 0], 5);
    }

    [Fact]
    public void A_failed_convert_leaves_no_file_behind()
    {
        var values = Enumerable.Range(0, 2 * 4 * 5).Select(i => (float)Math.Sin(i)).ToArray();
        values[(1 * 4 * 5) + (2 * 5) + 3] = float.NaN;
        string logits = _dir.File("l.npy"), tokens = _dir.File("t.npy"), output = _dir.File("out.kld");
        NpyFormat.Write(logits, values.AsSpan(), [2, 4, 5]);
        NpyFormat.Write(tokens, new long[8].AsSpan(), [2, 4]);
        var (code, _, stderr) = CliRunner.Run("convert", "--logits", logits, "--tokens", tokens, "--out", output);
        Assert.True(code == Data, stderr);
        Assert.False(File.Exists(output));
        Assert.Equal(2, Directory.GetFiles(_dir.Path).Length);
    }

    /// <summary>Logits and their input ids in one .safetensors file (as a framework saves them together) convert to the same .kld as two .npy files.</summary>
    [Fact]
    public void Convert_takes_its_tokens_by_tensor_name()
    {
        var values = Enumerable.Range(0, 2 * 4 * 5).Select(i => (float)Math.Sin(i)).ToArray();
        long[] ids = [1, 4, 0, 2, 3, 3, 1, 0];
        string logits = _dir.File("l.npy"), tokens = _dir.File("t.npy"), both = _dir.File("both.safetensors");
        NpyFormat.Write(logits, values.AsSpan(), [2, 4, 5]);
        NpyFormat.Write(tokens, ids.AsSpan(), [2, 4]);
        string header = """{"input_ids":{"dtype":"I64","shape":[2,4],"data_offsets":[0,64]},"logits":{"dtype":"F32","shape":[2,4,5],"data_offsets":[64,224]}}""";
        header = header.PadRight((header.Length + 7) / 8 * 8);
        using (var file = File.Create(both))
        {
            file.Write(BitConverter.GetBytes((long)header.Length));
            file.Write(System.Text.Encoding.UTF8.GetBytes(header));
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }

        Assert.Equal(0, CliRunner.Run("convert", "--logits", logits, "--tokens", tokens, "--out", _dir.File("a.kld")).Code);
        var (code, _, stderr) = CliRunner.Run("convert", "--logits", both, "--tensor", "logits", "--tokens", both, "--tokens-tensor", "input_ids", "--out", _dir.File("b.kld"));
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(_dir.File("a.kld")), File.ReadAllBytes(_dir.File("b.kld")));
    }

    [Fact]
    public void Json_holds_no_non_finite_number()
    {
        // One row: the standard error of its mean NLL is NaN, which JSON cannot hold; it prints as null.
        var report = CliRunner.Json("demo", "--rows", "1", "--vocab", "6");
        Assert.Null(report["evaluation"]!["mean_nll_se"]);
    }

    [Fact]
    public void Text_tables_print_infinite_results_as_inf_and_undefined_ones_as_n_a()
    {
        string logits = _dir.File("l.npy"), targets = _dir.File("t.npy");
        NpyFormat.Write(logits, new[] { 0f, float.NegativeInfinity, 0f, 0f, 1f, 0f }.AsSpan(), [2, 3]);
        NpyFormat.Write(targets, new long[] { 1, 0 }.AsSpan(), [2]);
        string[] args = ["eval", "--logits", logits, "--targets", targets, "--device", "cpu"];
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"mean_nll\s+│\s+inf\s+│", stdout);
        Assert.Matches(@"perplexity\s+│\s+inf\s+│", stdout);
        Assert.Matches(@"mean_nll_se\s+│\s+n/a\s+│", stdout);
        Assert.Null(CliRunner.Json(args)["mean_nll"]);
    }

    [Fact]
    public void Rates_of_a_text_with_no_scored_token_are_undefined()
    {
        string logits = _dir.File("l.npy"), targets = _dir.File("t.npy");
        NpyFormat.Write(logits, new float[3 * 4].AsSpan(), [3, 4]);
        NpyFormat.Write(targets, new long[] { -100, -100, -100 }.AsSpan(), [3]);
        // A shard's partial may score nothing (a whole run that does is refused: CliErrorTests); the merge of such partials has no rates.
        var report = CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--partial", _dir.File("p.json"));
        Assert.Equal(0, (long)report["tokens"]!);
        report = CliRunner.Json("merge", _dir.File("p.json"), "--total-bytes", "5", "--total-words", "3");
        Assert.Equal(0, (long)report["tokens"]!);
        Assert.Null(report["bits_per_byte"]);
        Assert.Null(report["byte_perplexity"]);
        Assert.Null(report["word_perplexity"]);
    }

    [Fact]
    public void Bench_data_and_sizes_are_checked_before_the_run()
    {
        string file = _dir.File("taken");
        File.WriteAllText(file, "x");
        CliRunner.Fails(Usage, ["--save-data", "is a file"], "bench", "--device", "cpu", "--rows", "4", "--vocab", "7", "--save-data", file);
        string folder = _dir.File("earlier");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "base.npy"), "x");
        CliRunner.Fails(Usage, ["base.npy", "exists"], "bench", "--device", "cpu", "--rows", "4", "--vocab", "7", "--save-data", folder);
        CliRunner.Fails(Usage, ["must fit one array"], "bench", "--device", "cpu", "--rows", "100000", "--vocab", "100000");
    }

    [Fact]
    public void One_step_of_a_curve_is_one_beta_and_the_ends_are_as_given()
    {
        string joint = _dir.File("joint.npy");
        NpyFormat.Write(joint, new double[] { 0.3, 0.1, 0.1, 0.5 }.AsSpan(), [2, 2]);
        CliRunner.Fails(Usage, ["one step is one beta"], "ib-curve", "--joint", joint, "--beta-min", "1", "--beta-max", "10", "--steps", "1");
        CliRunner.Fails(Usage, ["4 steps from beta 5 to itself"], "ib-curve", "--joint", joint, "--beta-min", "5", "--beta-max", "5", "--steps", "4");
        var points = CliRunner.Json("ib-curve", "--joint", joint, "--beta-min", "0.1", "--beta-max", "10", "--steps", "5")["points"]!.AsArray();
        Assert.Equal([10.0, 0.1], new[] { (double)points[0]!["beta"]!, (double)points[^1]!["beta"]! }.Order().Reverse());
    }

    private string Logits()
    {
        var planted = new PlantedLogits(groups: 2, perGroup: 4, vocab: 9, spread: 2, noise: 0.1, seed: 5);
        string path = _dir.File("ctx.npy");
        NpyFormat.Write(path, planted.Values.AsSpan(), [planted.Rows, planted.Vocab]);
        return path;
    }
}
