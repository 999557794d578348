using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo convert</c>: writes a llama.cpp .kld file (what <c>llama-perplexity --kl-divergence-base</c>
/// reads) from any framework's logits [B, T, V] and the input token ids [B, T], so that a model run
/// elsewhere can be compared with a llama.cpp run of the same chunks (B chunks of n_ctx = T tokens).
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var logits = new Option<string>("--logits") { Description = "Logits [B, T, V] at every position of B chunks of T tokens (.npy, .safetensors or torch.save .pt).", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "The input token ids [B, T] (int32 or int64).", Required = true };
        var tensor = new Option<string?>("--tensor") { Description = "Tensor name inside a .safetensors or .pt logits file." };
        var tokensTensor = new Option<string?>("--tokens-tensor") { Description = "Tensor name inside a .safetensors or .pt tokens file (e.g. input_ids beside the logits)." };
        var output = new Option<string>("--out") { Description = "The .kld file to write.", Required = true };
        var command = new Command("convert", "Write a llama.cpp .kld base file from logits [B, T, V] and their input tokens [B, T].") { logits, tokens, tensor, tokensTensor, output, json };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            OutputFile.Check(path);
            using var x = LogitsFile.Open(parse.GetValue(logits)!, parse.GetValue(tensor));
            using var ids = TargetsFile.Open(parse.GetValue(tokens)!, parse.GetValue(tokensTensor), "token ids");
            if (x.Info.Rank != 3 || ids.Info.Rank != 2 || ids.Info.Shape[0] != x.Info.Shape[0] || ids.Info.Shape[1] != x.Info.Shape[1])
            {
                throw CliException.BadData($"{ids.Path}: tokens {ids.Info.ShapeText} and logits {x.Info.ShapeText} ({x.Path}) must be [B, T] and [B, T, V].");
            }

            if (x.Info.Shape[0] == 0)
            {
                throw CliException.BadData($"{x.Path}: holds no sequences ({x.Info.ShapeText}); a .kld file needs at least one.");
            }

            if (x.SequenceLength is < 2 or > int.MaxValue || ids.Count > int.MaxValue / 4)
            {
                throw CliException.BadData($"{x.Path}: sequences of {x.SequenceLength} tokens cannot make a .kld file (need 2 to {int.MaxValue}, and fewer than 2^29 tokens in all).");
            }

            var wide = new long[ids.Count];
            ids.Read(0, wide);
            var narrow = new int[wide.Length];
            for (int i = 0; i < wide.Length; i++)
            {
                narrow[i] = wide[i] >= 0 && wide[i] < x.Vocab ? (int)wide[i]
                    : throw CliException.BadData($"{ids.Path}: token {i} is {wide[i]}, outside the vocabulary of {x.Vocab} ({x.Path}).");
            }

            int context = (int)x.SequenceLength;
            var buffer = new byte[x.RowBytes];
            try
            {
                KldFormat.Write(path, context, x.Vocab, narrow, (chunk, position, row) =>
                {
                    var values = x.ReadRows(((long)chunk * context) + position, 1, buffer);
                    Widen(values, row, x.Path, ((long)chunk * context) + position);
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"{path}: cannot write: {e.Message}");
            }

            var report = new JsonObject
            {
                ["out"] = path,
                ["n_ctx"] = context,
                ["n_chunk"] = narrow.Length / context,
                ["n_vocab"] = x.Vocab,
                ["rows"] = (long)(narrow.Length / context) * (context - 1 - (context / 2)),
            };
            CompareCommand.Print(stdout, parse.GetValue(json), $"convert {x.Path} to {path}", report);
            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>One row as float32, refusing what a log-softmax cannot take (NaN, +inf, all −inf).</summary>
    private static void Widen(Logits values, Span<float> row, string path, long index)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(in values.Start, checked((int)(values.Vocab * values.Type.Size())));
        switch (values.Type)
        {
            case ScalarType.Float32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).CopyTo(row);
                break;
            case ScalarType.Float16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes), row);
                break;
            default:
                var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                }

                break;
        }

        float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
        if (!float.IsFinite(max) || row.ContainsAnyExcept(float.NegativeInfinity) is false)
        {
            throw CliException.BadData($"{path}: row {index}: NaN, +inf or all -inf logits cannot be written to a .kld file.");
        }
    }
}
