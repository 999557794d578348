using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using GpuInfo.Benchmarking;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

public sealed class CliBehaviourTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Ilgpu_kernels_match_the_cpu_path_on_every_option_and_dtype()
    {
        var data = new Reference.TestData(77);
        var x = data.Logits(2 * 9, 523);
        var q = data.Perturbed(x, 0.1);
        var y = data.Targets(18, 523, 0.2, ignoreIndex: 7).Select(v => (long)v).ToArray();
        NpyFormat.Write(_dir.File("y.npy"), y.AsSpan(), [2, 9]);
        var files = new Dictionary<string, (string P, string Q)>
        {
            ["f32"] = (Write("p32.npy", x, DType.Float32), Write("q32.npy", q, DType.Float32)),
            ["f64"] = (Write("p64.npy", x, DType.Float64), Write("q64.npy", q, DType.Float64)),
            ["f16"] = (Write("p16.safetensors", x, DType.Float16), Write("q16.safetensors", q, DType.Float16)),
            ["bf16"] = (Write("pbf.safetensors", x, DType.BFloat16), Write("qbf.safetensors", q, DType.BFloat16)),
        };
        var optionSets = new[]
        {
            Array.Empty<string>(),
            ["--label-smoothing", "0.1", "--temperature", "1.3", "--ignore-index", "7"],
            ["--shift", "--ignore-index", "7"],
        };
        foreach (var (dtype, (p, qq)) in files)
        {
            foreach (var options in optionSets)
            {
                string[] eval = ["eval", "--logits", p, "--targets", _dir.File("y.npy"), .. options];
                Same(CliRunner.Json([.. eval, "--device", "cpu"]), CliRunner.Json([.. eval, "--device", "ilgpu-cpu"]), $"eval {dtype} {string.Join(' ', options)}");
            }

            string[] compare = ["compare", "--base", p, "--test", qq, "--targets", _dir.File("y.npy"), "--temperature", "0.9"];
            Same(CliRunner.Json([.. compare, "--device", "cpu"]), CliRunner.Json([.. compare, "--device", "ilgpu-cpu"]), $"compare {dtype}");
        }
    }

    /// <summary>
    /// The kernels on ILGPU's CPU accelerator shaped like each vendor's GPU (NVIDIA: warp 32, groups of
    /// up to 1024 threads): eval and compare agree with the SIMD path to 2e-5. Tiny shapes: these
    /// devices simulate every GPU thread (the full backend suite on them took over ten minutes).
    /// </summary>
    [Theory]
    [InlineData("ilgpu-cpu:nvidia")]
    [InlineData("ilgpu-cpu:amd")]
    [InlineData("ilgpu-cpu:intel")]
    public void Gpu_shaped_cpu_devices_match_the_cpu_path(string device)
    {
        var data = new Reference.TestData(31);
        var x = data.Logits(2 * 3, 203);
        var q = data.Perturbed(x, 0.1);
        var y = data.Targets(6, 203, 0.2, ignoreIndex: 7).Select(v => (long)v).ToArray();
        NpyFormat.Write(_dir.File("vy.npy"), y.AsSpan(), [2, 3]);
        long[] shape = [2, 3, 203];
        string p = Write("vp.safetensors", x, DType.BFloat16, shape), pq = Write("vq.npy", q, DType.Float32, shape);
        string[] eval = ["eval", "--logits", p, "--targets", _dir.File("vy.npy"), "--label-smoothing", "0.1", "--temperature", "1.3", "--ignore-index", "7"];
        Same(CliRunner.Json([.. eval, "--device", "cpu"]), CliRunner.Json([.. eval, "--device", device]), $"eval on {device}");
        string[] compare = ["compare", "--base", Write("vp.npy", x, DType.Float32, shape), "--test", pq, "--targets", _dir.File("vy.npy"), "--ignore-index", "7"];
        Same(CliRunner.Json([.. compare, "--device", "cpu"]), CliRunner.Json([.. compare, "--device", device]), $"compare on {device}");
        Assert.Contains("warp", CliRunner.Json("devices", "--device", device).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_runs_merged_equal_the_single_run()
    {
        string p = CliRunner.Golden("base.npy"), q = CliRunner.Golden("test.npy"), y = CliRunner.Golden("targets.npy");
        var single = CliRunner.Json("eval", "--logits", p, "--targets", y, "--shift", "--device", "cpu");
        var singleCompare = CliRunner.Json("compare", "--base", p, "--test", q, "--targets", y, "--device", "cpu");
        var evalParts = new List<string>();
        var compareParts = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            evalParts.Add(_dir.File($"eval{i}.json"));
            compareParts.Add(_dir.File($"compare{i}.json"));
            CliRunner.Json("eval", "--logits", p, "--targets", y, "--shift", "--shard", $"{i}/3", "--partial", evalParts[i], "--device", "cpu");
            CliRunner.Json("compare", "--base", p, "--test", q, "--targets", y, "--shard", $"{i}/3", "--partial", compareParts[i], "--device", "cpu");
        }

        var merged = CliRunner.Json(["merge", .. evalParts]);
        foreach (var key in new[] { "tokens", "ignored" })
        {
            Assert.Equal(single[key]!.GetValue<long>(), merged[key]!.GetValue<long>());
        }

        foreach (var key in new[] { "mean_nll", "perplexity", "bits_per_token", "mean_entropy", "top1_accuracy" })
        {
            Assert.Equal(CliRunner.Number(single[key]), CliRunner.Number(merged[key]), 1e-12);
        }

        var mergedCompare = CliRunner.Json(["merge", .. compareParts]);
        Assert.Equal(singleCompare["tokens"]!.GetValue<long>(), mergedCompare["tokens"]!.GetValue<long>());
        foreach (var key in new[] { "mean_kld", "mean_reverse_kld", "mean_js", "same_top1", "ppl_base", "ppl_test", "mean_delta_p", "rms_delta_p" })
        {
            Assert.Equal(CliRunner.Number(singleCompare[key]), CliRunner.Number(mergedCompare[key]), 1e-12);
        }

        Assert.False(mergedCompare["kld_percentiles_exact"]!.GetValue<bool>());
        foreach (var (name, exact) in (JsonObject)singleCompare["kld_percentiles"]!)
        {
            double e = CliRunner.Number(exact), sketch = CliRunner.Number(mergedCompare["kld_percentiles"]![name]);
            Assert.True(Math.Abs(sketch - e) <= LogHistogram.RelativeError * e * 1.01, $"{name}: exact {e}, merged sketch {sketch}");
        }
    }

    [Fact]
    public void Text_rates_follow_lm_evaluation_harness_and_survive_a_merge()
    {
        string p = CliRunner.Golden("base.npy"), y = CliRunner.Golden("targets.npy");
        var one = CliRunner.Json("eval", "--logits", p, "--targets", y, "--device", "cpu", "--total-bytes", "500", "--total-words", "90");
        double nll = CliRunner.Number(one["mean_nll"]) * one["tokens"]!.GetValue<long>();
        Assert.Equal(nll / 500 / Math.Log(2), CliRunner.Number(one["bits_per_byte"]), 1e-9);
        Assert.Equal(Math.Exp(nll / 500), CliRunner.Number(one["byte_perplexity"]), 1e-9);
        Assert.Equal(Math.Exp(nll / 90), CliRunner.Number(one["word_perplexity"]), 1e-3);
        string parts = _dir.File("rates");
        for (int i = 0; i < 2; i++)
        {
            CliRunner.Json("eval", "--logits", p, "--targets", y, "--device", "cpu", "--shard", $"{i}/2", "--partial-dir", parts);
        }

        var merged = CliRunner.Json("merge", parts, "--total-bytes", "500", "--total-words", "90");
        foreach (var key in new[] { "bits_per_byte", "byte_perplexity", "word_perplexity" })
        {
            Assert.Equal(one[key]!.ToJsonString(), merged[key]!.ToJsonString());
        }

        var (code, _, stderr) = CliRunner.Run("eval", "--logits", p, "--targets", y, "--device", "cpu", "--shard", "0/2", "--total-bytes", "500");
        Assert.True(code == 2 && stderr.Contains("merge", StringComparison.Ordinal), stderr);
    }

    [Fact]
    public void Per_token_bytes_give_bits_per_byte_over_the_scored_tokens()
    {
        string p = CliRunner.Golden("base.npy"), y = CliRunner.Golden("targets.npy");
        var targetsInfo = NpyFormat.Read(y);
        var targets = CliRunner.NpyValues<long>(y);
        var rng = new Random(5);
        var bytes = targets.Select(_ => (long)rng.Next(1, 9)).ToArray();
        string bytesFile = _dir.File("bytes.npy");
        NpyFormat.Write(bytesFile, bytes.AsSpan(), targetsInfo.Shape);
        string perToken = _dir.File("loss.npy");
        var report = CliRunner.Json("eval", "--logits", p, "--targets", y, "--shift", "--bytes", bytesFile, "--per-token", perToken, "--device", "cpu");
        var loss = CliRunner.NpyValues<float>(perToken);
        long sequence = targetsInfo.Shape[^1];
        double nll = 0;
        long scoredBytes = 0;
        for (int i = 0; i < loss.Length; i++)
        {
            // Under shift, row i scores token i + 1 (none at a sequence's end); ignored targets are -100.
            if (i % sequence != sequence - 1 && targets[i + 1] != -100)
            {
                nll += loss[i];
                scoredBytes += bytes[i + 1];
            }
        }

        Assert.Equal(nll / scoredBytes / Math.Log(2), CliRunner.Number(report["bits_per_byte"]), 1e-5);
        string parts = _dir.File("bytes-parts");
        for (int i = 0; i < 3; i++)
        {
            CliRunner.Json("eval", "--logits", p, "--targets", y, "--shift", "--bytes", bytesFile, "--device", "cpu", "--shard", $"{i}/3", "--partial-dir", parts);
        }

        Assert.Equal(report["bits_per_byte"]!.ToJsonString(), CliRunner.Json("merge", parts)["bits_per_byte"]!.ToJsonString());
    }

    [Fact]
    public void Compare_draws_the_kl_and_delta_p_distributions()
    {
        string[] args = ["compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"), "--targets", CliRunner.Golden("targets.npy"), "--device", "cpu"];
        string png = _dir.File("kl.png"), svg = _dir.File("kl.svg");
        CliRunner.Json([.. args, "--plot", png]);
        CliRunner.Json([.. args, "--plot", svg]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
        var document = System.Xml.Linq.XDocument.Load(svg);
        Assert.Equal(3, document.Root!.Elements().Count(e => e.Name.LocalName == "svg")); // KL, Δp, both models' reliability
        Assert.Contains("top-1 reliability of both models", File.ReadAllText(svg), StringComparison.Ordinal);
        var (code, _, stderr) = CliRunner.Run([.. args, "--plot", _dir.File("kl.pdf")]);
        Assert.True(code == 2 && stderr.Contains(".svg or .png", StringComparison.Ordinal), stderr);
    }

    [Fact]
    public void Per_token_output_holds_each_rows_loss()
    {
        string perToken = _dir.File("nll.npy");
        var report = CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--per-token", perToken, "--device", "cpu");
        var info = NpyFormat.Read(perToken);
        Assert.Equal(new long[] { 120 }, info.Shape);
        var values = CliRunner.NpyValues<float>(perToken);
        Assert.Equal(3, values.Count(float.IsNaN)); // the last position of each of the 3 sequences has no target
        double scoredMean = values.Where(v => !float.IsNaN(v) && v != 0).Average(v => (double)v);
        Assert.Equal(CliRunner.Number(report["mean_nll"]), scoredMean, 1e-5);
        string klFile = _dir.File("kl.npy");
        var compare = CliRunner.Json("compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"), "--per-token", klFile, "--device", "cpu");
        var kl = CliRunner.NpyValues<float>(klFile);
        Assert.Equal(CliRunner.Number(compare["mean_kld"]), kl.Average(v => (double)v), 1e-6);
    }

    [Theory]
    [InlineData("loss", "mean_nll")]
    [InlineData("entropy", "mean_entropy")]
    [InlineData("confidence", "mean_confidence")]
    [InlineData("brier", "brier")]
    public void Eval_writes_the_per_token_measure_asked_for(string measure, string mean)
    {
        string file = _dir.File(measure + ".npy");
        var report = CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--temperature", "1.3",
            "--per-token", file, "--per-token-measure", measure, "--device", "cpu");
        var values = CliRunner.NpyValues<float>(file);
        var y = CliRunner.NpyValues<long>(CliRunner.Golden("targets.npy"));
        Assert.Equal(120, values.Length);

        // Row t of each sequence of 40 is scored against target t + 1; the last of each has none.
        bool HasNone(int i) => i % 40 == 39;
        bool Scored(int i) => !HasNone(i) && y[i + 1] != -100;
        bool perRowOfEvery = measure is "entropy" or "confidence";
        for (int i = 0; i < values.Length; i++)
        {
            if (HasNone(i) && !perRowOfEvery)
            {
                Assert.True(float.IsNaN(values[i]), $"row {i} has no target: {values[i]}");
            }
            else if (!Scored(i) && !perRowOfEvery)
            {
                Assert.Equal(0f, values[i]);
            }
            else
            {
                Assert.True(float.IsFinite(values[i]) && values[i] >= 0, $"row {i}: {values[i]}");
            }
        }

        double scored = Enumerable.Range(0, values.Length).Where(Scored).Average(i => (double)values[i]);
        Assert.Equal(CliRunner.Number(report[mean]), scored, 1e-6 * CliRunner.Number(report[mean]));
        CliRunner.Fails(2, ["--per-token-measure", "--per-token OUT.npy"],
            "eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--per-token-measure", measure, "--device", "cpu");
    }

    [Theory]
    [InlineData("kl", "mean_kld")]
    [InlineData("reverse-kl", "mean_reverse_kld")]
    [InlineData("js", "mean_js")]
    [InlineData("tv", "mean_tvd")]
    public void Compare_writes_the_per_token_measure_asked_for(string measure, string mean)
    {
        string file = _dir.File(measure + ".npy");
        var report = CliRunner.Json("compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"), "--targets", CliRunner.Golden("targets.npy"),
            "--per-token", file, "--per-token-measure", measure, "--device", "cpu");
        var values = CliRunner.NpyValues<float>(file);
        var y = CliRunner.NpyValues<long>(CliRunner.Golden("targets.npy"));
        Assert.Equal(y.Length, values.Length); // one per row, ignored ones too
        double scored = values.Where((_, i) => y[i] != -100).Average(v => (double)v);
        Assert.Equal(CliRunner.Number(report[mean]), scored, 1e-6 * CliRunner.Number(report[mean]));

        // Without --per-token it would change nothing: said, not ignored.
        CliRunner.Fails(2, ["--per-token-measure", "--per-token OUT.npy"],
            "compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"), "--per-token-measure", measure, "--device", "cpu");
    }

    [Fact]
    public void Demo_devices_and_bench_run_without_files()
    {
        var demo = CliRunner.Json("demo", "--rows", "16", "--vocab", "1001", "--device", "cpu");
        Assert.Equal(16, demo["evaluation"]!["tokens"]!.GetValue<long>());
        Assert.Equal(1 - Distributions.ClosedForms.H2(0.1), CliRunner.Number(demo["distributions"]!["capacity_bsc_0.1_bits"]), 1e-6);
        var (code, stdout, _) = CliRunner.Run("demo", "--rows", "8", "--vocab", "257", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("perplexity", stdout, StringComparison.Ordinal);
        var devices = CliRunner.Json("devices", "--device", "cpu");
        Assert.Equal("cpu", devices["chosen"]!["kind"]!.GetValue<string>());
        Assert.Contains(devices["devices"]!.AsArray(), d => d!["kind"]!.GetValue<string>() == "ilgpu-cpu");
        Assert.False(string.IsNullOrWhiteSpace(devices["cpu_products"]!.GetValue<string>()));
        var bench = CliRunner.Json("bench", "--rows", "8", "--vocab", "3001", "--repeats", "2", "--device", "cpu");
        Assert.Equal(AcceleratorBenchmark.Ops.Count, bench["ops"]!.AsArray().Count);
        Assert.All(bench["ops"]!.AsArray(), op => Assert.True(CliRunner.Number(op!["max_relative_error"]) < 1e-4));
    }

    [Fact]
    public void Distribution_verbs_match_closed_forms_and_write_plots()
    {
        string bsc = Matrix("bsc.npy", new[,] { { 0.9, 0.1 }, { 0.1, 0.9 } });
        Assert.Equal(1 - Distributions.ClosedForms.H2(0.1), CliRunner.Number(CliRunner.Json("capacity", "--channel", bsc)["capacity_bits"]), 1e-6);
        string source = _dir.File("source.npy");
        NpyFormat.Write(source, new[] { 0.7, 0.3 }.AsSpan(), [2]);
        var rd = CliRunner.Json("rd", "--source", source, "--distortion", Matrix("hamming.npy", new double[,] { { 0, 1 }, { 1, 0 } }), "--beta", "2");
        Assert.Equal(Distributions.ClosedForms.H2(0.3) - Distributions.ClosedForms.H2(CliRunner.Number(rd["distortion"])), CliRunner.Number(rd["rate_bits"]), 1e-6);

        // Blahut-Arimoto's stopping rule is the caller's: a loose tolerance stops early, an iteration cap unconverged.
        string z = Matrix("z.npy", new[,] { { 1.0, 0.0 }, { 0.4, 0.6 } });
        var tight = CliRunner.Json("capacity", "--channel", z);
        var loose = CliRunner.Json("capacity", "--channel", z, "--tolerance", "1e-4");
        Assert.True((int)loose["iterations"]! < (int)tight["iterations"]! && (bool)loose["converged"]!);
        Assert.InRange(CliRunner.Number(loose["upper_bound_bits"]) - CliRunner.Number(loose["capacity_bits"]), 0, 1e-4);
        var capped = CliRunner.Json("rd", "--source", source, "--distortion", _dir.File("hamming.npy"), "--beta", "2", "--max-iterations", "2");
        Assert.False((bool)capped["converged"]!);
        Assert.Equal(2, (int)capped["iterations"]!);
        CliRunner.Fails(2, ["--tolerance"], "capacity", "--channel", z, "--tolerance", "0");
        string joint = Matrix("dsbs.npy", new[,] { { 0.45, 0.05 }, { 0.05, 0.45 } });
        var ib = CliRunner.Json("ib", "--joint", joint, "--beta", "0", "--clusters", "2");
        Assert.True(CliRunner.Number(ib["i_xt_bits"]) < 1e-6);
        Assert.Equal(1 - Distributions.ClosedForms.H2(0.1), CliRunner.Number(ib["i_xy_bits"]), 1e-9);
        string svg = _dir.File("plane.svg"), png = _dir.File("plane.png"), csv = _dir.File("curve.csv");
        var curve = CliRunner.Json("ib-curve", "--joint", joint, "--beta-min", "0.5", "--beta-max", "20", "--steps", "8", "--clusters", "2", "--plot", svg, "--csv", csv);
        Assert.Equal(8, curve["points"]!.AsArray().Count);
        Assert.Contains("<svg", File.ReadAllText(svg), StringComparison.Ordinal);
        Assert.Equal(9, File.ReadAllLines(csv).Length);
        CliRunner.Json("ib-curve", "--joint", joint, "--beta-min", "1", "--beta-max", "4", "--steps", "3", "--clusters", "2", "--plot", png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    /// <summary>capacity and rd honour --device (they ignored it): the JSON and the table name the device and where the pass ran.</summary>
    [Fact]
    public void Capacity_and_rd_run_on_the_device_asked_for()
    {
        string channel = Matrix("bsc-device.npy", new[,] { { 0.9, 0.1 }, { 0.1, 0.9 } });
        string source = _dir.File("source-device.npy");
        NpyFormat.Write(source, new[] { 0.7, 0.3 }.AsSpan(), [2]);
        string distortion = Matrix("hamming-device.npy", new double[,] { { 0, 1 }, { 1, 0 } });
        string[][] verbs = [["capacity", "--channel", channel], ["rd", "--source", source, "--distortion", distortion, "--beta", "2"]];
        foreach (var verb in verbs)
        {
            var cpu = CliRunner.Json([.. verb, "--device", "cpu"]);
            var device = CliRunner.Json([.. verb, "--device", "ilgpu-cpu"]);
            Assert.Equal("cpu, float64 SIMD", cpu["products"]!.GetValue<string>());
            Assert.StartsWith("cpu:", cpu["device"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.EndsWith(", float64 kernels", device["products"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.StartsWith("ilgpu-cpu:", device["device"]!.GetValue<string>(), StringComparison.Ordinal);
            string key = verb[0] == "rd" ? "rate_bits" : "capacity_bits";
            Assert.Equal(CliRunner.Number(cpu[key]), CliRunner.Number(device[key]), 1e-12);
            var (code, table, _) = CliRunner.Run([.. verb, "--device", "ilgpu-cpu"]);
            Assert.Equal(0, code);
            Assert.Contains("float64 kernels", table, StringComparison.Ordinal);
        }
    }

    /// <summary>The device field spelled ILGPU's CPU accelerator "ilgpucpu" (its enum name lowered), alone or in a list: it is "ilgpu-cpu", as --device takes it and 'gpuinfo devices' lists it.</summary>
    [Fact]
    public void Reports_name_each_device_as_device_takes_it()
    {
        string logits = _dir.File("l.npy"), targets = _dir.File("t.npy");
        NpyFormat.Write(logits, new float[] { 0, 1, 2, 2, 1, 0 }.AsSpan(), [2, 3]);
        NpyFormat.Write(targets, new long[] { 2, 0 }.AsSpan(), [2]);
        string[] eval = ["eval", "--logits", logits, "--targets", targets];
        Assert.Matches("^cpu: .+, ilgpu-cpu: .+$", CliRunner.Json([.. eval, "--device", "cpu,ilgpu-cpu"])["device"]!.GetValue<string>());
        Assert.StartsWith("ilgpu-cpu: ", CliRunner.Json([.. eval, "--device", "ilgpu-cpu"])["device"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Matches("^cpu: .+, ilgpu-cpu: .+$", CliRunner.Json("compare", "--base", logits, "--test", logits, "--device", "cpu,ilgpu-cpu")["device"]!.GetValue<string>());
        var (code, table, _) = CliRunner.Run([.. eval, "--device", "ilgpu-cpu"]);
        Assert.Equal(0, code);
        Assert.Contains("(ilgpu-cpu)", table, StringComparison.Ordinal);
    }

    private string Matrix(string name, double[,] m)
    {
        string path = _dir.File(name);
        NpyFormat.Write(path, MemoryMarshal.CreateReadOnlySpan(ref m[0, 0], m.Length), [m.GetLength(0), m.GetLength(1)]);
        return path;
    }

    private string Write(string name, float[] x, DType type, long[]? shape = null)
    {
        string path = _dir.File(name);
        shape ??= [2, 9, 523];
        if (type == DType.Float64)
        {
            NpyFormat.Write(path, x.Select(v => (double)v).ToArray().AsSpan(), shape);
        }
        else if (type == DType.Float32)
        {
            NpyFormat.Write(path, x.AsSpan(), shape);
        }
        else
        {
            var bytes = type == DType.Float16
                ? x.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray()
                : x.SelectMany(v => BitConverter.GetBytes(BFloat16Bits.FromSingle(v))).ToArray();
            SafetensorsFormat.Write(path, [("logits", type, shape, bytes)]);
        }

        return path;
    }

    private static void Same(JsonObject cpu, JsonObject gpu, string what)
    {
        foreach (var (key, value) in cpu)
        {
            // A confidence within the devices' rounding of a bin edge may land in the other bin: the
            // bins and the largest gap are checked against float64 on each device in CalibrationTests.
            if (key is "device" or "seconds" or "calibration_bins" or "mce")
            {
                continue;
            }

            if (key is "ece")
            {
                Assert.True(Math.Abs(CliRunner.Number(gpu[key]) - CliRunner.Number(value)) <= (2.0 / CliRunner.Number(cpu["tokens"])) + 1e-6, $"{what} ece: cpu {value}, ilgpu-cpu {gpu[key]}");
                continue;
            }

            if (value is JsonObject inner)
            {
                Same(inner, (JsonObject)gpu[key]!, $"{what} {key}");
            }
            else if (value is JsonValue v && v.TryGetValue(out double expected))
            {
                // Standard errors, correlations and differences of means (ln ratios, Δp) cancel: the
                // devices' float32 per-token values (within 2e-5) move them by more, relatively. They
                // are checked against float64 in ComparisonUncertaintyTests; here, to 1e-3.
                bool derived = key.EndsWith("_se", StringComparison.Ordinal) || what.EndsWith("delta_p_percentiles", StringComparison.Ordinal)
                    || key is "cor_ln_ppl" or "mean_ln_ppl_ratio" or "ppl_ratio" or "ppl_diff" or "mean_delta_p" or "rms_delta_p";
                double actual = CliRunner.Number(gpu[key]);
                double tolerance = derived ? (1e-3 * Math.Abs(expected)) + 1e-6 : (2e-5 * Math.Abs(expected)) + 1e-9;
                Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what} {key}: cpu {expected:R}, ilgpu-cpu {actual:R}");
            }
            else
            {
                Assert.Equal(value?.ToJsonString(), gpu[key]?.ToJsonString());
            }
        }
    }
}
