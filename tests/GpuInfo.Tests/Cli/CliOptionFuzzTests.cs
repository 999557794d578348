using System.CommandLine;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Models;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// Random command lines for every verb, built from the verbs' own option lists (so a new option is
/// fuzzed the day it is added): each option given or not, with awkward numbers, files of the wrong
/// kind or shape, missing files, output paths in missing folders or of odd extensions. Each run
/// reports or fails as a usage error, bad data or an absent device (exit 0, 2, 3, 4; one line),
/// never as an internal error (exit 1).
/// </summary>
public sealed class CliOptionFuzzTests : IDisposable
{
    private static readonly string[] Numbers = ["-1", "0", "1", "2", "3", "0.5", "1e-9", "nan", "inf", "-inf", "abc", "", "1e400", "2147483648"];

    /// <summary>Verbs left out: kernels compiles every kernel (seconds a run), demo and devices take no input worth fuzzing.</summary>
    private static readonly string[] Skipped = ["kernels", "demo", "devices"];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Random_command_lines_of_every_verb_report_or_fail_cleanly()
    {
        var inputs = Inputs();
        var verbs = GpuInfo.Cli.Program.Commands(TextWriter.Null, TextWriter.Null).Subcommands.Where(c => !Skipped.Contains(c.Name)).ToList();
        var exits = new Dictionary<int, int>();
        for (int m = 0; m < 1000; m++)
        {
            var rng = new Random(13000 + m);
            var verb = verbs[m % verbs.Count];
            var args = new List<string> { verb.Name };
            foreach (var argument in verb.Arguments)
            {
                args.AddRange(Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Pick(rng, inputs)));
            }

            foreach (var option in verb.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != "--help"))
            {
                if (rng.NextDouble() < (option.Required ? 0.95 : 0.3))
                {
                    args.AddRange(Given(option, rng, inputs));
                }
            }

            if (verb.Name == "bench")
            {
                args.AddRange(["--rows", rng.Next(-1, 9).ToString(), "--vocab", rng.Next(-1, 300).ToString(), "--repeats", "1", "--warmups", "0"]);
            }

            var run = CliRunner.Run([.. args]);
            Fuzz.ReportedOrFailedCleanly(run, $"seed {13000 + m}: gpuinfo {string.Join(' ', args.Select(a => a.Length == 0 ? "''" : a))}",
                [ExitCode.Usage, ExitCode.BadData, ExitCode.Device], json: false);
            exits[run.Code] = exits.GetValueOrDefault(run.Code) + 1;
        }

        Assert.True(exits.GetValueOrDefault(0) > 0 && exits.GetValueOrDefault(2) > 0 && exits.GetValueOrDefault(3) > 0,
            $"the fuzzer should reach reports, usage errors and bad data: {string.Join(", ", exits.Select(e => $"exit {e.Key}: {e.Value}"))}");
    }

    private IEnumerable<string> Given(Option option, Random rng, string[] inputs)
    {
        string name = option.Name;
        var type = option.ValueType;
        if (type == typeof(bool))
        {
            return [name];
        }

        string value = name switch
        {
            "--device" => rng.Next(8) switch { 0 => "cuda", 1 => "bogus", 2 => "2", _ => "cpu" },
            "--shard" => new[] { "0/2", "1/2", "2/2", "auto", "x", "0/0" }[rng.Next(6)],
            "--top-k" => new[] { "1,3", "0", "", "5,5", "-1", "1,,2", "100000" }[rng.Next(7)],
            "--dtype" => new[] { "f32", "f16", "bf16", "f64", "" }[rng.Next(5)],
            "--per-token-measure" => new[] { "kl", "reverse-kl", "js", "tv", "loss", "entropy", "confidence", "brier", "KL", "" }[rng.Next(10)],
            "--provider" => new[] { "auto", "cpu", "cuda", "tpu" }[rng.Next(4)],
            "--tokenizer" => new[] { ModelFiles.VocabJson, "gpt2", "nope", inputs[0] }[rng.Next(4)],
            "--model" or "--base" or "--test" when rng.Next(2) == 0 && option.Description?.Contains("ONNX", StringComparison.OrdinalIgnoreCase) == true =>
                ModelFiles.Path(new[] { "bigram.onnx", "window.onnx", "small_vocab.onnx", "bad_rank.onnx", "no_input_ids.onnx" }[rng.Next(5)]),
            "--text" => rng.Next(3) == 0 ? Pick(rng, inputs) : ModelFiles.SampleText,
            "--max-iterations" or "--steps" or "--restarts" or "--clusters" or "--examples" or "--top-tokens" or "--context" or "--stride" or "--batch" or "--threads" or "--shards" =>
                new[] { "-1", "0", "1", "2", "3", "abc", "2147483648" }[rng.Next(7)],
            "--per-token" or "--partial" or "--plot" or "--csv" or "--assignments" or "--decoders" or "--out" or "--partial-dir" or "--save-data" => Output(rng),
            _ when type == typeof(string) || type == typeof(string[]) => Pick(rng, inputs),
            _ => Numbers[rng.Next(Numbers.Length)],
        };
        return type == typeof(string[]) && rng.Next(4) == 0 ? [name, value, Pick(rng, inputs)] : [name, value];
    }

    private string Output(Random rng) => rng.Next(6) switch
    {
        0 => _dir.File("missing-folder/out.npy"),
        1 => _dir.Path,
        2 => _dir.File("out.txt"),
        3 => _dir.File($"out{rng.Next(100)}.svg"),
        4 => _dir.File($"out{rng.Next(100)}.png"),
        _ => _dir.File($"out{rng.Next(100)}" + new[] { ".npy", ".json", ".csv", "" }[rng.Next(4)]),
    };

    private static string Pick(Random rng, string[] inputs) => inputs[rng.Next(inputs.Length)];

    /// <summary>Files of every kind a verb might be handed, right or wrong for it.</summary>
    private string[] Inputs()
    {
        var data = new Reference.TestData(13);
        string Npy<T>(string name, T[] values, long[] shape)
            where T : unmanaged
        {
            string path = _dir.File(name);
            NpyFormat.Write(path, values.AsSpan(), shape);
            return path;
        }

        string empty = _dir.File("empty.npy");
        File.WriteAllBytes(empty, []);
        string text = _dir.File("notes.txt");
        File.WriteAllText(text, "not a tensor\n");
        string partial = _dir.File("part.json");
        CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--partial", partial, "--device", "cpu");
        return
        [
            CliRunner.Golden("base.npy"), CliRunner.Golden("test.npy"), CliRunner.Golden("targets.npy"),
            Npy("joint.npy", data.Logits(5, 7).Select(v => (double)Math.Abs(v)).ToArray(), [5, 7]),
            Npy("square.npy", Enumerable.Repeat(0.25, 16).ToArray(), [4, 4]),
            Npy("vector.npy", [0.2, 0.3, 0.5, 0.0], [4]),
            Npy("ids.npy", Enumerable.Range(0, 20).Select(i => (long)(i * 7 % ModelFiles.Vocab)).ToArray(), [20]),
            Npy("rows.npy", data.Logits(6, 11), [6, 11]),
            Npy("labels.npy", [1L, 2, 3, -100, 0, 10], [6]),
            empty, text, partial, _dir.Path, _dir.File("missing.npy"), ModelFiles.SampleText, ModelFiles.VocabJson,
            ModelFiles.Path("samples_paired_base_choices.jsonl"), ModelFiles.Path("samples_paired_test_gsm8k.jsonl"), ModelFiles.Path("samples_rolling.jsonl"),
        ];
    }
}
