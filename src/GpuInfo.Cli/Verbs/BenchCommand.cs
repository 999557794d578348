using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Benchmarking;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Samples;
using Spectre.Console;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo bench</c>: accelerator benchmarking. Measures the device's read bandwidth, times every
/// row-wise measure (warm-up, median of repeats) on data resident where it computes, verifies each
/// result before reporting it, and prints ms, GB/s and the fraction of read bandwidth.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var rows = new Option<int>("--rows") { Description = "Rows of logits.", DefaultValueFactory = _ => 512 };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary size.", DefaultValueFactory = _ => 50_257 };
        var dtype = new Option<string>("--dtype") { Description = "f32, f16 or bf16.", DefaultValueFactory = _ => "f32" };
        dtype.AcceptOnlyFromAmong("f32", "f16", "bf16");
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per op (the median is reported).", DefaultValueFactory = _ => 10 };
        var warmups = new Option<int>("--warmups") { Description = "Untimed runs first (at least this many, and at least 0.5 s of them).", DefaultValueFactory = _ => 5 };
        var saveData = new Option<string?>("--save-data") { Description = "Also write the benchmark's logits and targets as .npy into this folder (for a peer run on the same data)." };
        var command = new Command("bench", "Benchmark every row-wise measure on the chosen device: ms, GB/s, fraction of read bandwidth; results verified first.")
        {
            rows, vocab, dtype, repeats, warmups, saveData,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(rows), v = parse.GetValue(vocab), r = parse.GetValue(repeats), w = parse.GetValue(warmups);
            if (n < 1 || v < 2 || r < 1 || w < 0)
            {
                throw CliException.Usage($"need --rows >= 1, --vocab >= 2, --repeats >= 1, --warmups >= 0 (got {n}, {v}, {r}, {w}).");
            }

            var type = parse.GetValue(dtype) switch { "f16" => ScalarType.Float16, "bf16" => ScalarType.BFloat16, _ => ScalarType.Float32 };
            string[] saved = ["base.npy", "test.npy", "targets.npy"];
            if (parse.GetValue(saveData) is { } folder)
            {
                if (File.Exists(folder))
                {
                    throw CliException.Usage($"--save-data {folder}: is a file; it must name a folder.");
                }

                if (saved.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists) is { } existing)
                {
                    throw CliException.Usage($"--save-data {folder}: {existing} exists; name a folder without an earlier run's data.");
                }
            }

            using var engine = common.CreateEngine(parse);
            var data = SampleLogits.Create(n, v);
            if (parse.GetValue(saveData) is { } dir)
            {
                Directory.CreateDirectory(dir);
                NpyFormat.Write(Path.Combine(dir, "base.npy"), data.Base.AsSpan(), [n, v]);
                NpyFormat.Write(Path.Combine(dir, "test.npy"), data.Test.AsSpan(), [n, v]);
                NpyFormat.Write(Path.Combine(dir, "targets.npy"), data.Targets.Select(t => (long)t).ToArray().AsSpan(), [n]);
            }

            BenchmarkReport report;
            try
            {
                report = AcceleratorBenchmark.Run(engine, data, type, w, r);
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(ExitCode.Internal, e.Message);
            }

            if (parse.GetValue(common.Json))
            {
                Json.Write(stdout, ToJson(report));
                return ExitCode.Ok;
            }

            var console = Tables.Console(stdout);
            console.MarkupLine($"[bold]gpuinfo bench[/] {Markup.Escape(DeviceNames.Kind(report.Device.Kind))} ({Markup.Escape(report.Device.Name)}), {n} x {v} {parse.GetValue(dtype)}");
            console.MarkupLine($"read bandwidth {report.ReadGigabytesPerSecond:F1} GB/s{(report.CopyGigabytesPerSecond is double c ? $", device copy {c:F1} GB/s (read + write)" : string.Empty)}; results checked against {Markup.Escape(report.Verification)}");
            var table = new Table().AddColumns("op", "ms", "GB/s", "of read BW", "max rel. error");
            foreach (var op in report.Ops)
            {
                table.AddRow(op.Op, Tables.F(op.Milliseconds, "F3"), Tables.F(op.GigabytesPerSecond, "F1"), $"{op.FractionOfReadBandwidth:P0}", op.MaxRelativeError.ToString("E1", System.Globalization.CultureInfo.InvariantCulture));
            }

            console.Write(table);
            return ExitCode.Ok;
        });
        return command;
    }

    public static JsonObject ToJson(BenchmarkReport report)
    {
        var ops = new JsonArray();
        foreach (var op in report.Ops)
        {
            ops.Add(new JsonObject
            {
                ["op"] = op.Op,
                ["gbps"] = op.GigabytesPerSecond,
                ["fraction_of_read_bw"] = op.FractionOfReadBandwidth,
                ["ms"] = op.Milliseconds,
                ["bytes"] = op.Bytes,
                ["max_relative_error"] = op.MaxRelativeError,
            });
        }

        return new JsonObject
        {
            ["device"] = DeviceNames.Of(report.Device),
            ["rows"] = report.Rows,
            ["vocab"] = report.Vocab,
            ["dtype"] = report.DType.ToString().ToLowerInvariant(),
            ["memory_read_gbps"] = report.ReadGigabytesPerSecond,
            ["memory_copy_gbps"] = report.CopyGigabytesPerSecond,
            ["verification"] = report.Verification,
            ["ops"] = ops,
        };
    }
}
