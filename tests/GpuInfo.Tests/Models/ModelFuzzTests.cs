using System.Text;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// The model verbs' other inputs made awkward: texts of random bytes (invalid UTF-8, NULs, control
/// characters, far-flung Unicode), ids files out of the vocabulary or of odd shapes, damaged
/// tokenizer files and odd window options. Each run reports, or fails as a usage error or bad data
/// (exit 2 or 3, one line), never as an internal error.
/// </summary>
public sealed class ModelFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Perplexity_reports_or_refuses_awkward_texts_ids_and_windows()
    {
        string sample = File.ReadAllText(ModelFiles.SampleText);
        var vocab = File.ReadAllBytes(ModelFiles.VocabJson);
        int reported = 0, refused = 0;
        for (int m = 0; m < 100; m++)
        {
            var rng = new Random(12000 + m);
            string text = _dir.File("text.txt"), ids = _dir.File("ids.npy"), tokenizer = _dir.File("vocab.json"), merges = _dir.File("merges.txt");
            File.WriteAllBytes(text, Text(rng, sample));
            File.WriteAllBytes(tokenizer, rng.Next(4) == 0 ? Fuzz.Mutate(vocab, rng) : vocab);
            File.Copy(ModelFiles.Path("merges.txt"), merges, overwrite: true);
            int count = rng.Next(0, 40);
            var values = Enumerable.Range(0, count).Select(_ => rng.Next(10) switch { 0 => -1L, 1 => ModelFiles.Vocab, 2 => long.MaxValue, _ => rng.Next(ModelFiles.Vocab) }).ToArray();
            if (rng.Next(3) == 0)
            {
                NpyFormat.Write(ids, values.Select(v => (int)v).ToArray().AsSpan(), count % 2 == 0 && count > 0 ? [2, count / 2] : [count]);
            }
            else
            {
                NpyFormat.Write(ids, values.AsSpan(), [count]);
            }

            string context = rng.Next(4) switch { 0 => rng.Next(-1, 3).ToString(), 1 => "64", _ => "16" };
            string stride = rng.Next(4) switch { 0 => rng.Next(-1, 3).ToString(), 1 => context, _ => "5" };
            string batch = rng.Next(5) == 0 ? rng.Next(-1, 2).ToString() : "3";
            string model = ModelFiles.Path(rng.Next(3) == 0 ? "window.onnx" : "bigram.onnx");
            string[][] runs =
            [
                ["perplexity", "--model", model, "--text", text, "--tokenizer", tokenizer, "--context", context, "--stride", stride, "--batch", batch, "--top-k", "1,2"],
                ["perplexity", "--model", model, "--tokens", ids, "--context", context, "--stride", stride, "--total-bytes", rng.Next(-1, 100).ToString()],
                ["compare-models", "--base", model, "--test", ModelFiles.Path("bigram.onnx"), "--text", text, "--tokenizer", tokenizer, "--context", context, "--stride", stride],
            ];
            foreach (var run in runs)
            {
                var (code, stdout, stderr) = CliRunner.Run([.. run, "--device", "cpu", "--json"]);
                Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"seed {12000 + m}: gpuinfo {string.Join(' ', run)}", [ExitCode.Usage, ExitCode.BadData]);
                (code == 0 ? ref reported : ref refused)++;
            }
        }

        Assert.True(reported > 0 && refused > 0, $"the fuzzer should produce both usable and refused inputs ({reported} reported, {refused} refused)");
    }

    [Fact]
    public void Llama_cpp_task_files_report_or_are_refused()
    {
        byte[] winogrande = File.ReadAllBytes(ModelFiles.Path("winogrande.csv")), hellaswag = File.ReadAllBytes(ModelFiles.Path("hellaswag.txt"));
        byte[] choices = File.ReadAllBytes(ModelFiles.Path("multiple_choice.bin"));
        int reported = 0, refused = 0;
        for (int m = 0; m < 40; m++)
        {
            var rng = new Random(13000 + m);
            foreach (var (option, valid) in new[] { ("--winogrande", winogrande), ("--hellaswag", hellaswag), ("--multiple-choice", choices) })
            {
                string file = _dir.File("tasks" + option);
                byte[] bytes = Fuzz.Mutate(valid, rng);
                File.WriteAllBytes(file, rng.Next(3) == 0 ? [.. bytes, (byte)'\n'] : bytes);
                string[] run = ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, option, file, "--context", "64", $"{option}-tasks", rng.Next(1, 20).ToString(System.Globalization.CultureInfo.InvariantCulture)];
                var (code, stdout, stderr) = CliRunner.Run([.. run, "--device", "cpu", "--json"]);
                Fuzz.ReportedOrFailedCleanly((code, stdout, stderr), $"seed {13000 + m}: gpuinfo {string.Join(' ', run)}", [ExitCode.BadData]);
                (code == 0 ? ref reported : ref refused)++;
            }
        }

        Assert.True(reported > 0 && refused > 0, $"{reported} reported, {refused} refused: the mutations should do both");
    }

    private static byte[] Text(Random rng, string sample)
    {
        switch (rng.Next(5))
        {
            case 0:
                var bytes = new byte[rng.Next(0, 200)];
                rng.NextBytes(bytes);
                return bytes;
            case 1:
                return Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, rng.Next(0, 60)).Select(_ => char.ConvertFromUtf32(rng.Next(4) switch
                {
                    0 => rng.Next(0, 32),
                    1 => rng.Next(0x1F600, 0x1F650),
                    2 => rng.Next(0x4E00, 0x9FFF),
                    _ => rng.Next(32, 127),
                }))));
            case 2:
                return Encoding.UTF8.GetBytes(sample[..rng.Next(0, Math.Min(sample.Length, 40))]);
            default:
                return Fuzz.Mutate(Encoding.UTF8.GetBytes(sample), rng);
        }
    }
}
