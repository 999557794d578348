using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Cli.Streaming;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo compare</c>: a test model's logits against a base model's on the same tokens (e.g. a
/// quantization against its original): KL(base||test) with percentiles, JS, top-1 agreement and,
/// with targets, both perplexities and the change in p(target).
/// </summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var baseOption = new Option<string>("--base") { Description = "Base logits [N,V] or [B,T,V].", Required = true };
        var testOption = new Option<string>("--test") { Description = "Test logits, same shape as the base.", Required = true };
        var targets = new Option<string?>("--targets") { Description = "Optional targets [N] or [B,T]: adds ppl_base, ppl_test and delta-p." };
        var tensor = new Option<string?>("--tensor") { Description = "Tensor name inside .safetensors logits files (default: the only one)." };
        var ignore = new Option<long>("--ignore-index") { Description = "With targets: rows whose target equals this are left out.", DefaultValueFactory = _ => -100 };
        var temperature = new Option<float>("--temperature") { Description = "Divide both logits by T > 0.", DefaultValueFactory = _ => 1f };
        var perToken = new Option<string?>("--per-token") { Description = "Write per-token KL(base||test) (nats, float32 .npy), one per compared row." };
        var shard = new Option<string?>("--shard") { Description = "Compare one contiguous share of rows, i/n (i from 0)." };
        var partial = new Option<string?>("--partial") { Description = "Write mergeable totals to this JSON file (see 'gpuinfo merge')." };
        var chunkMb = new Option<int>("--chunk-mb") { Description = "Logits read per chunk (both files together), in MiB.", DefaultValueFactory = _ => 128 };
        var command = new Command("compare", "KL divergence (with percentiles), Jensen-Shannon and top-1 agreement of test logits against base logits.")
        {
            baseOption, testOption, targets, tensor, ignore, temperature, perToken, shard, partial, chunkMb,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            float t = parse.GetValue(temperature);
            if (!(t > 0) || float.IsInfinity(t))
            {
                throw CliException.Usage($"--temperature must be finite and > 0, got {t}.");
            }

            int chunk = parse.GetValue(chunkMb);
            if (chunk < 1)
            {
                throw CliException.Usage($"--chunk-mb must be at least 1, got {chunk}.");
            }

            var range = Shard.Parse(parse.GetValue(shard));
            using var p = LogitsFile.Open(parse.GetValue(baseOption)!, parse.GetValue(tensor));
            using var q = LogitsFile.Open(parse.GetValue(testOption)!, parse.GetValue(tensor));
            if (!p.Info.Shape.SequenceEqual(q.Info.Shape))
            {
                throw CliException.BadData($"{q.Path}: shape {q.Info.ShapeText} differs from the base logits' {p.Info.ShapeText} ({p.Path}).");
            }

            using var targetsFile = parse.GetValue(targets) is { } tp ? TargetsFile.Open(tp) : null;
            var plan = targetsFile is null ? null : new TargetPlan(targetsFile, p, shift: false);
            using var engine = common.CreateEngine(parse);
            var (first, count) = range.Range(p.Rows);
            using var perTokenWriter = PerTokenWriter.Create(parse.GetValue(perToken), count);
            var totals = new ComparisonAccumulator();
            bool json = parse.GetValue(common.Json);
            long ignoreIndex = parse.GetValue(ignore);
            Progress.Run(!json, "compare", count, count * (p.RowBytes + q.RowBytes), advance =>
            {
                var reader = new ChunkReader([p, q], plan, first, count, (long)chunk << 20);
                var kl = new float[reader.ChunkRows];
                while (reader.Next() is { } c)
                {
                    var y = plan is null ? default : new Targets(c.Targets.AsSpan(0, c.Rows));
                    try
                    {
                        engine.Compare(p.View(c.Buffers[0], c.Rows), q.View(c.Buffers[1], c.Rows), totals, y, t, ignoreIndex,
                            new ComparisonRows { Kl = kl.AsSpan(0, c.Rows) });
                    }
                    catch (InvalidInputException e) when (e.Row >= 0)
                    {
                        throw RowErrors.ToCli(e, c.FirstRow, e.ParamName switch { "q" => q.Path, "targets" => plan!.Path, _ => p.Path });
                    }
                    perTokenWriter?.Write(kl.AsSpan(0, c.Rows));
                    advance(c.Rows, c.Rows * (p.RowBytes + q.RowBytes));
                }
            });
            if (parse.GetValue(partial) is { } partialPath)
            {
                Partials.Write(partialPath, Partials.Compare(totals, range, q.Path));
            }

            var report = Report(totals, $"{engine.Device.Kind.ToString().ToLowerInvariant()}: {engine.Device.Name}", clock.Elapsed.TotalSeconds);
            Print(stdout, json, $"compare {q.Path} against {p.Path} ({engine.Device.Kind})", report);
            return ExitCode.Ok;
        });
        return command;
    }

    public static JsonObject Report(ComparisonAccumulator t, string device, double seconds)
    {
        var percentiles = new JsonObject();
        foreach (var (name, value) in t.KlPercentiles())
        {
            percentiles[name] = Json.Number(value);
        }

        var report = new JsonObject
        {
            ["tokens"] = t.Tokens,
            ["mean_kld"] = Json.Number(t.MeanKl),
            ["kld_percentiles"] = percentiles,
            ["kld_percentiles_exact"] = t.HasAllValues,
            ["mean_js"] = Json.Number(t.MeanJs),
            ["same_top1"] = Json.Number(t.SameTop1Fraction),
        };
        if (t.HasTargets)
        {
            report["ppl_base"] = Json.Number(t.PerplexityBase);
            report["ppl_test"] = Json.Number(t.PerplexityTest);
            report["mean_delta_p"] = Json.Number(t.MeanDeltaP);
            report["rms_delta_p"] = Json.Number(t.RmsDeltaP);
        }

        report["device"] = device;
        report["seconds"] = Math.Round(seconds, 3);
        return report;
    }

    public static void Print(TextWriter stdout, bool json, string title, JsonObject report)
    {
        if (json)
        {
            Json.Write(stdout, report);
            return;
        }

        var rows = new List<(string, string)>();
        foreach (var (key, value) in report)
        {
            if (value is JsonObject inner)
            {
                rows.AddRange(inner.Select(kv => ($"{key}.{kv.Key}", kv.Value?.ToString() ?? "n/a")));
            }
            else
            {
                rows.Add((key, value?.ToString() ?? "n/a"));
            }
        }

        Tables.Console(stdout).Write(Tables.KeyValue(title, rows));
    }
}
