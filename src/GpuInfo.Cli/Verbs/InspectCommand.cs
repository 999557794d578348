using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using Spectre.Console;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo inspect</c>: what the input files hold, without reading their data: every tensor of a
/// .npy, .safetensors or torch.save .pt file (name, dtype, shape, size, whether GpuInfo reads it and,
/// if not, why), a .pt file's other values, and a llama.cpp .kld file's header. It answers "what do I
/// give --tensor?" and "what is in this .pt?" without running the file's pickle (as torch.load would).
/// </summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var files = new Argument<string[]>("files") { Description = "Files to describe (.npy, .safetensors, .pt, .kld).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("inspect", "List the tensors in .npy, .safetensors and torch.save .pt files (name, dtype, shape, size, readable or why not) and a llama.cpp .kld file's header, without reading their data or running a pickle.")
        {
            files, json,
        };
        command.SetAction(parse =>
        {
            var described = new JsonArray([.. parse.GetValue(files)!.Select(f => (JsonNode)Describe(f))]);
            if (parse.GetValue(json))
            {
                Json.Write(stdout, new JsonObject { ["files"] = described });
            }
            else
            {
                Print(stdout, described);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>One file: its format and tensors (or a .kld header); a file GpuInfo cannot open at all is a one-line error (exit 3).</summary>
    private static JsonObject Describe(string path)
    {
        if (File.Exists(path) && KldFormat.Sniff(path))
        {
            var kld = KldFormat.Read(path);
            return new JsonObject
            {
                ["path"] = path,
                ["format"] = "llama.cpp .kld",
                ["bytes"] = new FileInfo(path).Length,
                ["n_ctx"] = kld.Context,
                ["n_vocab"] = kld.Vocab,
                ["n_chunk"] = kld.Chunks,
                ["rows"] = kld.Rows,
                ["tokens"] = kld.Tokens.Length,
            };
        }

        string ext = Path.GetExtension(path).ToLowerInvariant();
        var o = new JsonObject { ["path"] = path };
        switch (ext)
        {
            case ".safetensors":
                o["format"] = "safetensors";
                o["tensors"] = new JsonArray([.. SafetensorsFormat.ReadAll(path).Select(t => (JsonNode)Tensor(t.Name, t, null))]);
                break;
            case ".pt":
                var contents = TorchFormat.ReadAll(path);
                o["format"] = "torch.save (zip)";
                o["tensors"] = new JsonArray([.. contents.Tensors.Select(t => (JsonNode)Tensor(t.Name, t.Info, t.Refusal))]);
                if (contents.Others.Count > 0)
                {
                    o["other_values"] = new JsonObject(contents.Others.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
                }

                break;
            default:
                var info = TensorInfo.Open(path); // .npy, or the error that names what the file is not
                o["format"] = "npy";
                o["tensors"] = new JsonArray(Tensor(null, info, null));
                break;
        }

        return o;
    }

    private static JsonObject Tensor(string? name, TensorInfo? info, string? refusal)
    {
        var t = new JsonObject();
        if (name is not null)
        {
            t["name"] = name;
        }

        if (info is null)
        {
            t["readable"] = false;
            t["problem"] = refusal;
            return t;
        }

        t["dtype"] = info.Unsupported ?? info.DType.ToString().ToLowerInvariant();
        t["shape"] = new JsonArray([.. info.Shape.Select(d => (JsonNode)d)]);
        t["bytes"] = info.Unsupported is null ? info.ByteLength : null;
        t["data_offset"] = info.DataOffset;
        t["readable"] = info.Unsupported is null;
        if (info.Unsupported is not null)
        {
            t["problem"] = $"dtype {info.Unsupported} is not read (supported: F32, F16, BF16, F64, I32, I64).";
        }

        return t;
    }

    private static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    private static void Print(TextWriter stdout, JsonArray files)
    {
        var console = Tables.Console(stdout);
        foreach (var file in files.Select(f => f!.AsObject()))
        {
            if (file["tensors"] is not JsonArray tensors)
            {
                console.Write(Tables.KeyValue($"{file["path"]} ({file["format"]})", file.Where(kv => kv.Key is not ("path" or "format")).Select(kv => (kv.Key, Tables.Value(kv.Value)))));
                continue;
            }

            var table = new Table { Title = new TableTitle(Markup.Escape($"{file["path"]} ({file["format"]})")) };
            table.AddColumns("tensor", "dtype", "shape", "size", "read");
            foreach (var t in tensors.Select(t => t!.AsObject()))
            {
                string shape = t["shape"] is JsonArray s ? "[" + string.Join(", ", s.Select(d => d!.ToJsonString())) + "]" : "";
                string size = t["bytes"] is JsonNode b ? Size(b.GetValue<long>()) : "";
                string read = t["readable"]!.GetValue<bool>() ? "yes" : $"no: {t["problem"]}";
                table.AddRow(Markup.Escape(t["name"]?.GetValue<string>() ?? "(the file)"), Markup.Escape(t["dtype"]?.GetValue<string>() ?? ""), Markup.Escape(shape), size, Markup.Escape(read));
            }

            console.Write(table);
            if (file["other_values"] is JsonObject others)
            {
                console.Write(Tables.KeyValue("other values (not tensors)", others.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }
        }
    }
}
