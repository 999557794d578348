using System.Text;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// Every malformed input gives one line on stderr naming the file and the problem, the documented
/// exit code (2 usage, 3 data, 4 device), no stack trace, and nothing on stdout.
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private const int Usage = 2, Data = 3, Device = 4;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_accelerator_failure_is_a_device_error_of_one_line()
    {
        // ILGPU reports a device's failure (out of memory, a failed launch) as an AcceleratorException.
        var (code, message) = GpuInfo.Cli.Program.Describe(new ILGPU.Runtime.Cuda.CudaException("out of memory"));
        Assert.Equal(Device, code);
        Assert.Equal("the cuda accelerator failed: out of memory (--device cpu runs without it)", message);
    }

    [Fact]
    public void A_cublas_failure_is_a_device_error()
    {
        // ILGPU.Algorithms' CuBlasException derives from Exception, not AcceleratorException: a failed
        // SGEMM (CUBLAS_STATUS_ALLOC_FAILED, EXECUTION_FAILED) in the IB over rows must still exit 4.
        var (code, message) = GpuInfo.Cli.Program.Describe(new ILGPU.Runtime.Cuda.CuBlasException(ILGPU.Runtime.Cuda.CuBlasStatus.CUBLAS_STATUS_EXECUTION_FAILED));
        Assert.Equal(Device, code);
        Assert.StartsWith("cuBLAS failed on the cuda accelerator: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file() => CliRunner.Fails(Data, ["missing.npy", "file not found"], "eval", "--logits", _dir.File("missing.npy"), "--targets", Targets(2, 0, 1));

    [Fact]
    public void Truncated_file()
    {
        string path = Logits("trunc.npy", 4, 10);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);
        CliRunner.Fails(Data, ["trunc.npy", "truncated"], "eval", "--logits", path, "--targets", Targets(4, 0, 1, 2, 3));
    }

    [Fact]
    public void Junk_bytes()
    {
        string path = _dir.File("junk.npy");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("this is junk, not a tensor file at all"));
        CliRunner.Fails(Data, ["junk.npy", "not a .npy file"], "eval", "--logits", path, "--targets", Targets(1, 0));
    }

    [Fact]
    public void Integer_logits()
    {
        string path = _dir.File("ints.npy");
        NpyFormat.Write(path, new int[] { 1, 2, 3, 4 }.AsSpan(), [2, 2]);
        CliRunner.Fails(Data, ["ints.npy", "floating point"], "eval", "--logits", path, "--targets", Targets(2, 0, 1));
    }

    [Fact]
    public void Target_out_of_range() =>
        CliRunner.Fails(Data, ["targets.npy", "row 2", "target 10"], "eval", "--logits", Logits("l.npy", 4, 10), "--targets", Targets(4, 0, 1, 10, 3));

    [Fact]
    public void Targets_and_logits_of_different_lengths() =>
        CliRunner.Fails(Data, ["targets.npy", "3 targets", "4 rows"], "eval", "--logits", Logits("l.npy", 4, 10), "--targets", Targets(3, 0, 1, 2));

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+inf")]
    public void Non_finite_logits(float bad, string word) =>
        CliRunner.Fails(Data, ["bad.npy", "row 2", word], "eval", "--logits", Logits("bad.npy", 4, 10, (2, 3, bad)), "--targets", Targets(4, 0, 1, 2, 3));

    [Fact]
    public void A_row_of_all_negative_infinity()
    {
        var rows = Enumerable.Range(0, 10).Select(j => (1, j, float.NegativeInfinity)).ToArray();
        CliRunner.Fails(Data, ["masked.npy", "row 1", "-inf"], "compare", "--base", Logits("base.npy", 3, 10), "--test", Logits("masked.npy", 3, 10, rows));
    }

    [Fact]
    public void Huge_safetensors_header()
    {
        string path = _dir.File("huge.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(150_000_000UL), .. Encoding.ASCII.GetBytes("{}")]);
        CliRunner.Fails(Data, ["huge.safetensors", "exceeds"], "eval", "--logits", path, "--targets", Targets(1, 0));
    }

    [Fact]
    public void Broken_safetensors_header()
    {
        string path = _dir.File("broken.safetensors");
        File.WriteAllBytes(path, SafetensorsFormatTests.Safetensors("{\"logits\": {\"dtype\": \"F32\", \"shape\": [2, 2", new byte[16]));
        CliRunner.Fails(Data, ["broken.safetensors", "not valid"], "compare", "--base", path, "--test", path);
    }

    [Fact]
    public void Negative_probabilities()
    {
        string path = _dir.File("joint.npy");
        NpyFormat.Write(path, new[] { 0.5, -0.1, 0.3, 0.3 }.AsSpan(), [2, 2]);
        CliRunner.Fails(Data, ["joint.npy", "[0, 1]", "-0.1"], "ib", "--joint", path, "--beta", "2");
        string channel = _dir.File("channel.npy");
        NpyFormat.Write(channel, new[] { 0.5, 0.5, 0.2, 0.7 }.AsSpan(), [2, 2]);
        CliRunner.Fails(Data, ["channel.npy", "row 1", "sum"], "capacity", "--channel", channel);
    }

    [Fact]
    public void A_vector_is_no_joint_or_channel()
    {
        // Read as one row, a flattened joint gave I(X;Y) = 0 and a flattened channel capacity 0, with converged: true.
        string vector = _dir.File("vector.npy");
        NpyFormat.Write(vector, new[] { 0.25, 0.25, 0.5 }.AsSpan(), [3]);
        CliRunner.Fails(Data, ["vector.npy", "must be a matrix", "[3]"], "ib", "--joint", vector, "--beta", "2", "--device", "cpu");
        CliRunner.Fails(Data, ["vector.npy", "must be a matrix", "[3]"], "ib-curve", "--joint", vector, "--beta-min", "1", "--beta-max", "4", "--steps", "2", "--device", "cpu");
        CliRunner.Fails(Data, ["vector.npy", "must be a matrix", "[3]"], "capacity", "--channel", vector, "--device", "cpu");
    }

    [Fact]
    public void Cluster_display_options_that_would_do_nothing()
    {
        // ib --joint shows no tokens, and ib-curve no clusters: these options were accepted and ignored.
        string joint = _dir.File("joint.npy");
        NpyFormat.Write(joint, new[] { 0.2, 0.1, 0.3, 0.4 }.AsSpan(), [2, 2]);
        string vocab = _dir.File("vocab.txt");
        File.WriteAllText(vocab, "a\nb\n");
        CliRunner.Fails(Usage, ["--vocab", "--joint"], "ib", "--joint", joint, "--beta", "2", "--vocab", vocab, "--device", "cpu");
        CliRunner.Fails(Usage, ["--top-tokens", "--joint"], "ib", "--joint", joint, "--beta", "2", "--top-tokens", "3", "--device", "cpu");
        string rows = Logits("rows.npy", 4, 10);
        foreach (var option in new[] { "--vocab", "--top-tokens", "--examples" })
        {
            CliRunner.Fails(Usage, [option], "ib-curve", "--logits", rows, "--beta-min", "1", "--beta-max", "4", "--steps", "2", option, option == "--vocab" ? vocab : "3", "--device", "cpu");
        }
    }

    [Fact]
    public void A_value_outside_a_fixed_set_is_one_line() =>
        CliRunner.Fails(Usage, ["f64", "'bf16'"], "bench", "--dtype", "f64", "--rows", "2", "--vocab", "10");

    [Fact]
    public void An_option_merge_does_not_take_is_no_missing_file()
    {
        string partial = _dir.File("a.json");
        CliRunner.Json("eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--partial", partial, "--device", "cpu");
        CliRunner.Fails(Usage, ["--device", "not an option of merge"], "merge", partial, "--device", "cpu");
    }

    [Fact]
    public void Convert_takes_no_device()
    {
        // convert runs no measure: its --device was never read, so even 'tpu' exited 0.
        string logits = _dir.File("l3.npy"), tokens = _dir.File("t3.npy");
        NpyFormat.Write(logits, new Reference.TestData(7).Logits(8, 5).AsSpan(), [2, 4, 5]);
        NpyFormat.Write(tokens, new long[] { 0, 1, 2, 3, 4, 0, 1, 2 }.AsSpan(), [2, 4]);
        CliRunner.Fails(Usage, ["--device"], "convert", "--logits", logits, "--tokens", tokens, "--out", _dir.File("o.kld"), "--device", "tpu");
    }

    [Fact]
    public void A_tensor_name_for_a_npy_file()
    {
        // The message named --tensor also when --targets-tensor was given.
        string logits = Logits("l.npy", 2, 5), targets = Targets(2, 0, 1);
        CliRunner.Fails(Data, ["targets.npy", "a tensor name applies to .safetensors and .pt files only"], "eval", "--logits", logits, "--targets", targets, "--targets-tensor", "t");
        CliRunner.Fails(Data, ["l.npy", "a tensor name applies to .safetensors and .pt files only"], "eval", "--logits", logits, "--targets", targets, "--tensor", "t");
    }

    [Fact]
    public void A_folder_for_a_model_or_a_text()
    {
        // Both were reported as missing files.
        string folder = _dir.File("folder");
        Directory.CreateDirectory(folder);
        CliRunner.Fails(Data, ["folder", "is a folder holding no .onnx model"], "perplexity", "--model", folder, "--tokens", Targets(2, 0, 1), "--device", "cpu");
        string model = Path.Combine(AppContext.BaseDirectory, "Models", "bigram.onnx");
        CliRunner.Fails(Data, ["folder", "is a folder, not a text file"], "perplexity", "--model", model, "--text", folder, "--tokenizer", "gpt2", "--device", "cpu");
    }

    /// <summary>Every option that opens a tensor file: a folder was "unknown extension ''" (or, named x.npy, "permission denied (or it is a directory)").</summary>
    [Fact]
    public void A_folder_for_a_tensor_file()
    {
        string folder = _dir.File("folder"), npyFolder = _dir.File("folder.npy");
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(npyFolder);
        string logits = Logits("l.npy", 2, 5), targets = Targets(2, 0, 1), matrix = _dir.File("m.npy"), vector = _dir.File("v.npy");
        NpyFormat.Write(matrix, new[] { 0.5, 0.5, 0.5, 0.5 }.AsSpan(), [2, 2]);
        NpyFormat.Write(vector, new[] { 0.5, 0.5 }.AsSpan(), [2]);
        string model = Path.Combine(AppContext.BaseDirectory, "Models", "bigram.onnx");
        string[] ib = ["ib", "--beta", "2", "--clusters", "2", "--device", "cpu"];
        string[][] runs =
        [
            ["eval", "--logits", folder, "--targets", targets, "--device", "cpu"],
            ["eval", "--logits", npyFolder, "--targets", targets, "--device", "cpu"],
            ["eval", "--logits", logits, "--targets", folder, "--device", "cpu"],
            ["eval", "--logits", logits, "--targets", targets, "--bytes", folder, "--device", "cpu"],
            ["compare", "--base", folder, "--test", logits, "--device", "cpu"],
            ["compare", "--base", logits, "--test", folder, "--device", "cpu"],
            ["convert", "--logits", folder, "--tokens", targets, "--out", _dir.File("o.kld")],
            ["convert", "--logits", logits, "--tokens", folder, "--out", _dir.File("o.kld")],
            ["perplexity", "--model", model, "--tokens", folder, "--device", "cpu"],
            ["mi", "--joint", folder],
            ["capacity", "--channel", folder, "--device", "cpu"],
            ["rd", "--source", folder, "--distortion", matrix, "--beta", "1", "--device", "cpu"],
            ["rd", "--source", vector, "--distortion", folder, "--beta", "1", "--device", "cpu"],
            [.. ib, "--joint", folder],
            [.. ib, "--logits", folder],
            [.. ib, "--probs", folder],
            [.. ib, "--logits", logits, "--weights", folder],
        ];
        foreach (var args in runs)
        {
            string given = args.Contains(npyFolder) ? "folder.npy" : "folder";
            CliRunner.Fails(Data, [given, "is a folder, not a .npy, .safetensors or .pt file"], args);
        }

        CliRunner.Fails(Data, ["folder", "is a folder, not a vocabulary file"], [.. ib, "--logits", logits, "--vocab", folder]);
    }

    [Fact]
    public void Unknown_flags() => CliRunner.Fails(Usage, ["--frobnicate"], "eval", "--frobnicate", "--logits", "a.npy", "--targets", "b.npy");

    [Fact]
    public void Non_numeric_values() => CliRunner.Fails(Usage, ["abc"], "eval", "--logits", "a.npy", "--targets", "b.npy", "--temperature", "abc");

    [Fact]
    public void Bad_option_values() =>
        CliRunner.Fails(Usage, ["temperature"], "eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--temperature", "0");

    [Fact]
    public void Top_k_beyond_the_vocabulary()
    {
        CliRunner.Fails(Usage, ["--top-k 11", "vocabulary (10 tokens)"], "eval", "--logits", Logits("l.npy", 2, 10), "--targets", Targets(2, 0, 1), "--top-k", "1,11");
        CliRunner.Fails(Usage, ["--top-k 11", "vocabulary (10 tokens)"], "compare", "--base", Logits("p.npy", 2, 10), "--test", Logits("q.npy", 2, 10), "--top-k", "5,11");

        // k equal to the vocabulary is as trivial: every token is in the top k (it read accuracy 1).
        CliRunner.Fails(Usage, ["--top-k 10", "vocabulary (10 tokens)"], "eval", "--logits", Logits("l.npy", 2, 10), "--targets", Targets(2, 0, 1), "--top-k", "10");
        Assert.Equal(0, CliRunner.Run("eval", "--logits", Logits("l.npy", 2, 10), "--targets", Targets(2, 0, 1), "--top-k", "9", "--device", "cpu").Code);
    }

    /// <summary>The message was "--total-bytes and --total-words must be at least 1, got 0 and -." whichever was given.</summary>
    [Fact]
    public void Text_totals_below_one_are_named_with_their_values()
    {
        string[] eval = ["eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--device", "cpu"];
        Only(["--total-bytes", "0"], "--total-bytes must be at least 1, got 0.");
        Only(["--total-words", "-3", "--total-bytes", "7"], "--total-words must be at least 1, got -3.");
        Only(["--total-bytes", "0", "--total-words", "0"], "--total-bytes must be at least 1, got 0; --total-words must be at least 1, got 0.");

        void Only(string[] options, string message)
        {
            CliRunner.Fails(Usage, [message], [.. eval, .. options]);
            Assert.Equal($"gpuinfo: {message}", CliRunner.Run([.. eval, .. options]).Stderr.TrimEnd());
        }
    }

    /// <summary>demo --vocab 5 reported top5_accuracy = 1, as any model over 5 tokens has; eval refuses a --top-k beyond the vocabulary alike.</summary>
    [Fact]
    public void Demo_refuses_a_vocabulary_its_top_k_covers()
    {
        CliRunner.Fails(Usage, ["--vocab must be at least 6, got 5", "top-5"], "demo", "--rows", "4", "--vocab", "5", "--device", "cpu");
        CliRunner.Fails(Usage, ["--rows must be at least 1, got 0"], "demo", "--rows", "0", "--device", "cpu");
    }

    [Fact]
    public void Missing_required_option() => CliRunner.Fails(Usage, ["--targets"], "eval", "--logits", Logits("l.npy", 2, 5));

    [Fact]
    public void Unknown_verb() => CliRunner.Fails(Usage, ["frobnicate"], "frobnicate");

    [Fact]
    public void Device_unavailable() =>
        CliRunner.Fails(Device, ["device index 99"], "eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--device", "99");

    [Fact]
    public void Unknown_device_name() =>
        CliRunner.Fails(Usage, ["unknown device 'tpu'"], "eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--device", "tpu");

    [Fact]
    public void Mismatched_partials()
    {
        string a = _dir.File("a.json"), b = _dir.File("b.json");
        CliRunner.Json("eval", "--logits", Logits("l.npy", 2, 5), "--targets", Targets(2, 0, 1), "--partial", a, "--device", "cpu");
        CliRunner.Json("compare", "--base", Logits("p.npy", 2, 5), "--test", Logits("q.npy", 2, 5), "--partial", b, "--device", "cpu");
        CliRunner.Fails(Data, ["b.json", "cannot be merged"], "merge", a, b);
        File.WriteAllText(b, "{ not json");
        CliRunner.Fails(Data, ["b.json", "not valid JSON"], "merge", a, b);
    }

    [Fact]
    public void Incomplete_repeated_and_foreign_shards()
    {
        string logits = Logits("l.npy", 9, 5), targets = Targets(9, 0, 1, 2, 3, 4, 0, 1, 2, 3), parts = _dir.File("parts");
        foreach (int i in new[] { 0, 2 })
        {
            CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--shard", $"{i}/3", "--partial-dir", parts, "--device", "cpu");
        }

        CliRunner.Fails(Data, ["missing: 1/3"], "merge", parts);
        string copy = _dir.File("copy.json");
        File.Copy(Path.Combine(parts, "part-2-of-3.json"), copy);
        CliRunner.Fails(Data, ["copy.json", "shard 2/3 is also in", "part-2-of-3.json"], "merge", parts, copy);
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--shard", "1/3", "--partial-dir", parts, "--device", "cpu", "--temperature", "2");
        CliRunner.Fails(Data, ["part-1-of-3.json", "options.temperature"], "merge", parts);
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--shard", "1/4", "--partial", copy, "--device", "cpu");
        CliRunner.Fails(Data, ["copy.json", "run of 4 shards"], "merge", Path.Combine(parts, "part-0-of-3.json"), copy);
        CliRunner.Fails(Data, ["no partials"], "merge", _dir.Path);
    }

    [Fact]
    public void Shard_options()
    {
        string logits = Logits("l.npy", 4, 5), targets = Targets(4, 0, 1, 2, 3);
        CliRunner.Fails(Usage, ["--shard must be i/n"], "eval", "--logits", logits, "--targets", targets, "--shard", "3/3");
        CliRunner.Fails(Usage, ["--shards applies with --shard auto"], "eval", "--logits", logits, "--targets", targets, "--shard", "0/2", "--shards", "2");
        CliRunner.Fails(Usage, ["not both"], "eval", "--logits", logits, "--targets", targets, "--partial", _dir.File("a.json"), "--partial-dir", _dir.File("d"));
        string[] scheduler = ["SLURM_ARRAY_TASK_ID", "SLURM_PROCID", "SLURM_NTASKS", "JOB_COMPLETION_INDEX", "RANK", "WORLD_SIZE"];
        if (scheduler.All(v => Environment.GetEnvironmentVariable(v) is null))
        {
            CliRunner.Fails(Usage, ["--shard auto found no scheduler variables"], "eval", "--logits", logits, "--targets", targets, "--shard", "auto");
        }
    }

    /// <summary>A file named twice in one list was read twice as rows of one corpus: every standard error too small by √2.</summary>
    [Fact]
    public void A_file_given_twice_in_one_list_is_refused()
    {
        string logits = Logits("l.npy", 4, 10), targets = Targets(4, 0, 1, 2, 3);
        CliRunner.Fails(Usage, ["--logits names", "l.npy twice"], "eval", "--logits", logits, logits, "--targets", targets, _dir.File("other.npy"));
        CliRunner.Fails(Usage, ["--targets names", "twice"], "eval", "--logits", logits, Logits("m.npy", 4, 10), "--targets", targets, Path.Combine(_dir.Path, ".", "targets.npy"));
    }

    /// <summary>A value that is not a number was named by .NET's type: 'System.Nullable`1[System.Int64]'.</summary>
    [Fact]
    public void A_value_of_the_wrong_type_is_named_in_words()
    {
        CliRunner.Fails(Usage, ["Cannot parse argument '1e3' for option '--total-bytes' as an integer."], "eval", "--logits", "x.npy", "--total-bytes", "1e3");
        CliRunner.Fails(Usage, ["'abc' for option '--beta' as a number."], "ib", "--joint", "x.npy", "--beta", "abc");
    }

    /// <summary>--ignore-index and --calibration-bins apply to targets: without any, compare took and ignored them.</summary>
    [Fact]
    public void Target_options_without_targets_are_refused()
    {
        string logits = Logits("l.npy", 4, 10);
        CliRunner.Fails(Usage, ["--ignore-index applies to the targets"], "compare", "--base", logits, "--test", logits, "--ignore-index", "3");
        CliRunner.Fails(Usage, ["--calibration-bins applies to the targets"], "compare", "--base", logits, "--test", logits, "--calibration-bins", "7");
    }

    /// <summary>A byte count no token has (2^62, whose sum wrapped to 1000) and counts that sum to nothing are refused, not reported.</summary>
    [Fact]
    public void Byte_counts_beyond_a_tokens_or_of_no_text_are_refused()
    {
        string logits = Logits("l.npy", 4, 10), targets = Targets(4, 0, 1, 2, 3), bytes = _dir.File("bytes.npy");
        NpyFormat.Write(bytes, new long[] { 1, 1L << 62, 1L << 62, 1L << 62 }.AsSpan(), [4]);
        CliRunner.Fails(Data, ["bytes.npy", "row 1", "beyond 2^40"], "eval", "--logits", logits, "--targets", targets, "--bytes", bytes, "--device", "cpu");
        NpyFormat.Write(bytes, new long[] { -2, 1, 1, 1 }.AsSpan(), [4]);
        CliRunner.Fails(Data, ["bytes.npy", "row 0", "negative"], "eval", "--logits", logits, "--targets", targets, "--bytes", bytes, "--device", "cpu");
        NpyFormat.Write(bytes, new long[4].AsSpan(), [4]);
        CliRunner.Fails(Data, ["bytes.npy", "sum to 0"], "eval", "--logits", logits, "--targets", targets, "--bytes", bytes, "--device", "cpu");
    }

    /// <summary>A whole run that scores nothing (no rows; every target ignored) is an error, as perplexity's is, not a report of nulls; a shard's partial may still score nothing.</summary>
    [Fact]
    public void A_run_that_scores_nothing_is_refused()
    {
        string logits = Logits("l.npy", 4, 10), ignored = Targets(4, -100, -100, -100, -100), empty = _dir.File("empty.npy");
        CliRunner.Fails(Data, ["l.npy", "nothing to score", "ignore index"], "eval", "--logits", logits, "--targets", ignored, "--device", "cpu");
        NpyFormat.Write(empty, Array.Empty<float>().AsSpan(), [0, 10]);
        CliRunner.Fails(Data, ["empty.npy", "nothing to score", "no rows"], "compare", "--base", empty, "--test", empty, "--device", "cpu");
        var partial = CliRunner.Json("eval", "--logits", logits, "--targets", ignored, "--partial", _dir.File("p.json"), "--device", "cpu");
        Assert.Equal(0, partial["tokens"]!.GetValue<long>());
    }

    private string Logits(string name, int rows, int vocab, params (int Row, int Col, float Value)[] overrides)
    {
        var x = new Reference.TestData(rows * 31 + vocab).Logits(rows, vocab);
        foreach (var (r, c, v) in overrides)
        {
            x[r * vocab + c] = v;
        }

        string path = _dir.File(name);
        NpyFormat.Write(path, x.AsSpan(), [rows, vocab]);
        return path;
    }

    private string Targets(int count, params long[] values)
    {
        Assert.Equal(count, values.Length);
        string path = _dir.File("targets.npy");
        NpyFormat.Write(path, values.AsSpan(), [count]);
        return path;
    }
}
