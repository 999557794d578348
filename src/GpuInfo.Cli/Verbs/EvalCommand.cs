using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Cli.Streaming;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo eval</c>: perplexity and friends of a model's logits against targets, streamed in
/// row chunks. Per token: cross-entropy (PyTorch semantics), entropy and argmax; totals in float64.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var logits = new Option<string>("--logits") { Description = "Logits [N,V] or [B,T,V] (.npy or .safetensors).", Required = true };
        var targets = new Option<string>("--targets") { Description = "Targets [N] or [B,T], int32 or int64.", Required = true };
        var tensor = new Option<string?>("--tensor") { Description = "Tensor name inside a .safetensors logits file (default: the only one)." };
        var targetsTensor = new Option<string?>("--targets-tensor") { Description = "Tensor name inside a .safetensors targets file." };
        var ignore = new Option<long>("--ignore-index") { Description = "Targets equal to this are not scored (PyTorch's default, -100).", DefaultValueFactory = _ => -100 };
        var smoothing = new Option<float>("--label-smoothing") { Description = "Label smoothing e in [0,1] (PyTorch semantics).", DefaultValueFactory = _ => 0f };
        var temperature = new Option<float>("--temperature") { Description = "Divide logits by T > 0.", DefaultValueFactory = _ => 1f };
        var shift = new Option<bool>("--shift") { Description = "Score position t against the target at t+1 within each sequence (causal LM)." };
        var perToken = new Option<string?>("--per-token") { Description = "Write per-token loss (nats, float32 .npy): 0 for ignored targets, NaN where --shift leaves none." };
        var shard = new Option<string?>("--shard") { Description = "Score one contiguous share of rows, i/n (i from 0)." };
        var partial = new Option<string?>("--partial") { Description = "Write mergeable totals to this JSON file (see 'gpuinfo merge')." };
        var chunkMb = new Option<int>("--chunk-mb") { Description = "Logits read per chunk, in MiB.", DefaultValueFactory = _ => 64 };
        var command = new Command("eval", "Cross-entropy, perplexity, bits per token, entropy and top-1 accuracy of logits against targets.")
        {
            logits, targets, tensor, targetsTensor, ignore, smoothing, temperature, shift, perToken, shard, partial, chunkMb,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var options = new CrossEntropyOptions
            {
                IgnoreIndex = parse.GetValue(ignore),
                LabelSmoothing = parse.GetValue(smoothing),
                Temperature = parse.GetValue(temperature),
            };
            int chunk = parse.GetValue(chunkMb);
            if (chunk < 1)
            {
                throw CliException.Usage($"--chunk-mb must be at least 1, got {chunk}.");
            }

            var range = Shard.Parse(parse.GetValue(shard));
            using var logitsFile = LogitsFile.Open(parse.GetValue(logits)!, parse.GetValue(tensor));
            options.Validate(logitsFile.Vocab);
            using var targetsFile = TargetsFile.Open(parse.GetValue(targets)!, parse.GetValue(targetsTensor));
            var plan = new TargetPlan(targetsFile, logitsFile, parse.GetValue(shift));
            using var engine = common.CreateEngine(parse);
            var (first, count) = range.Range(logitsFile.Rows);
            using var perTokenWriter = PerTokenWriter.Create(parse.GetValue(perToken), count);
            var totals = new PerplexityAccumulator();
            long dropped = 0;
            bool json = parse.GetValue(common.Json);
            Progress.Run(!json, "eval", count, count * logitsFile.RowBytes, advance =>
            {
                var reader = new ChunkReader([logitsFile], plan, first, count, (long)chunk << 20);
                var loss = new float[reader.ChunkRows];
                var y = new long[reader.ChunkRows];
                while (reader.Next() is { } c)
                {
                    for (int i = 0; i < c.Rows; i++)
                    {
                        bool none = c.Targets[i] == TargetPlan.Dropped;
                        dropped += none ? 1 : 0;
                        y[i] = none ? options.IgnoreIndex : c.Targets[i];
                    }

                    try
                    {
                        engine.Evaluate(logitsFile.View(c.Buffers[0], c.Rows), y.AsSpan(0, c.Rows), totals, options,
                            new EvaluationRows { Loss = loss.AsSpan(0, c.Rows) });
                    }
                    catch (InvalidInputException e) when (e.Row >= 0)
                    {
                        throw RowErrors.ToCli(e, c.FirstRow, e.ParamName == "targets" ? plan.Path : logitsFile.Path);
                    }
                    perTokenWriter?.Write(loss.AsSpan(0, c.Rows), c.Targets.AsSpan(0, c.Rows));
                    advance(c.Rows, c.Rows * logitsFile.RowBytes);
                }
            });
            var report = Report(totals, totals.Ignored - dropped, engine.Device, clock.Elapsed.TotalSeconds);
            if (parse.GetValue(partial) is { } partialPath)
            {
                Partials.Write(partialPath, Partials.Eval(totals, totals.Ignored - dropped, range, logitsFile.Path));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                Tables.Console(stdout).Write(Tables.KeyValue($"eval {logitsFile.Path} ({engine.Device.Kind})", report.Select(kv => (kv.Key, kv.Value?.ToString() ?? "n/a"))));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    public static JsonObject Report(PerplexityAccumulator t, long ignored, DeviceReport device, double seconds) => new()
    {
        ["tokens"] = t.Tokens,
        ["ignored"] = ignored,
        ["mean_nll"] = Json.Number(t.MeanNll),
        ["perplexity"] = Json.Number(t.Perplexity),
        ["bits_per_token"] = Json.Number(t.BitsPerToken),
        ["mean_entropy"] = Json.Number(t.MeanEntropy),
        ["top1_accuracy"] = Json.Number(t.Top1Accuracy),
        ["device"] = $"{device.Kind.ToString().ToLowerInvariant()}: {device.Name}",
        ["seconds"] = Math.Round(seconds, 3),
    };
}
