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
/// if not, why), a .pt file's other values, a llama.cpp .kld file's header, and an ONNX model's
/// inputs and outputs with what perplexity feeds and reads (the model is opened and checked as
/// perplexity opens it). It answers "what do I give --tensor?", "what is in this .pt?" (without running
/// the file's pickle, as torch.load would) and "will perplexity take this export?".
/// </summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var files = new Argument<string[]>("files") { Description = "Files to describe (.npy, .safetensors, .pt, .kld, .onnx, .parquet).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("inspect", "List the tensors in .npy, .safetensors and torch.save .pt files (name, dtype, shape, size, readable or why not) and a llama.cpp .kld file's header, without reading tensor data or running a pickle; an ONNX model's inputs and outputs with what perplexity feeds and reads (the model is loaded and run on two 4-token windows, as perplexity opens it); and a Parquet file's rows and columns, with those --text-field reads.")
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
            case ".onnx":
                return Model(path);
            case ".parquet":
                var (rows, groups, createdBy, columns) = ParquetDocuments.Describe(path);
                o["format"] = "parquet";
                o["bytes"] = new FileInfo(path).Length;
                o["rows"] = rows;
                o["row_groups"] = groups;
                o["created_by"] = createdBy;
                o["columns"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject
                {
                    ["name"] = c.Name,
                    ["type"] = c.Type,
                    ["nullable"] = c.Nullable,
                    ["text"] = c.Text,
                })]);
                break;
            case ".safetensors":
                var (all, metadata) = SafetensorsFormat.ReadWithMetadata(path);
                o["format"] = "safetensors";
                o["tensors"] = new JsonArray([.. all.Select(t => (JsonNode)Tensor(t.Name, t, null))]);
                if (metadata.Count > 0)
                {
                    // A tokenized corpus's tokenizer (gpuinfo tokenize --out), a checkpoint's "format": "pt".
                    o["metadata"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
                }

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
                var info = ext == ".npy" ? NpyFormat.Describe(path) : TensorInfo.Open(path); // .npy, or the error that names what the file is not
                o["format"] = "npy";
                o["tensors"] = new JsonArray(Tensor(null, info, null));
                break;
        }

        return o;
    }

    /// <summary>An ONNX model, opened as perplexity opens it by default (execution provider auto): a model it refuses is that one-line error.</summary>
    private static JsonObject Model(string path)
    {
        using var model = GpuInfo.Models.OnnxLanguageModel.Open(path);
        static JsonArray Ports(IEnumerable<GpuInfo.Models.OnnxPort> ports, string use) => new([.. ports.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["dtype"] = p.DType,
            ["shape"] = new JsonArray([.. p.Shape.Select(d => (JsonNode)(long.TryParse(d, out long n) ? n : d))]),
            [use] = p.Use,
        })]);
        string folder = Path.GetDirectoryName(path) ?? "";
        return new JsonObject
        {
            ["path"] = path,
            ["format"] = "onnx",
            ["bytes"] = new FileInfo(path).Length,
            ["vocab"] = model.Vocab,
            ["logits_dtype"] = model.Type.ToString().ToLowerInvariant(),
            ["provider"] = model.Provider,
            ["causal"] = model.CausalityChecked ? true : null, // Open refuses a model whose first token's logits see the tokens after it
            ["past_reuse"] = model.PastReuse, // loglikelihood runs requests' common first tokens once where it reuses its past
            ["inputs"] = Ports(model.InputPorts, "fed"),
            ["outputs"] = Ports(model.OutputPorts, "read"),
            ["external_data"] = new JsonArray([.. model.ExternalDataFiles.Select(f => (JsonNode)new JsonObject
            {
                ["path"] = Path.Combine(folder, f),
                ["bytes"] = File.Exists(Path.Combine(folder, f)) ? new FileInfo(Path.Combine(folder, f)).Length : null,
            })]),
        };
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
            t["problem"] = $"dtype {info.Unsupported} is not read (supported: {(name is null ? "<f4, <f2, <f8, <i4, <i8" : "F32, F16, BF16, F64, I32, I64")}).";
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

    private static void PrintModel(IAnsiConsole console, JsonObject file)
    {
        var table = new Table { Title = new TableTitle(Markup.Escape($"{file["path"]} (onnx, vocabulary {file["vocab"]}, {file["logits_dtype"]} logits)")) };
        table.AddColumns("", "name", "dtype", "shape", "perplexity");
        foreach (var (kind, use) in new[] { ("inputs", "fed"), ("outputs", "read") })
        {
            foreach (var port in file[kind]!.AsArray().Select(p => p!.AsObject()))
            {
                string shape = "[" + string.Join(", ", port["shape"]!.AsArray().Select(d => d!.GetValueKind() == System.Text.Json.JsonValueKind.String ? d.GetValue<string>() : d.ToJsonString())) + "]";
                table.AddRow(kind == "inputs" ? "in" : "out", Markup.Escape(port["name"]!.GetValue<string>()), Markup.Escape(port["dtype"]!.GetValue<string>()), Markup.Escape(shape),
                    Markup.Escape(port[use]?.GetValue<string>() ?? "(not read)"));
            }
        }

        console.Write(table);
        foreach (var data in file["external_data"]!.AsArray())
        {
            console.MarkupLine(Markup.Escape($"external data: {data!["path"]} ({(data["bytes"] is JsonNode b ? Size(b.GetValue<long>()) : "missing")})"));
        }

        console.MarkupLine(file["causal"] is null
            ? "causal: not checked (the model does not run on 4-token windows)"
            : "causal: its first token's logits do not change with the tokens after it");
        console.MarkupLine(Markup.Escape($"past reuse: {file["past_reuse"]}"));
    }

    private static void Print(TextWriter stdout, JsonArray files)
    {
        var console = Tables.Console(stdout);
        foreach (var file in files.Select(f => f!.AsObject()))
        {
            if (file["inputs"] is JsonArray)
            {
                PrintModel(console, file);
                continue;
            }

            if (file["columns"] is JsonArray columns)
            {
                var parquet = new Table { Title = new TableTitle(Markup.Escape($"{file["path"]} (parquet, {file["rows"]} rows in {file["row_groups"]} row groups)")) };
                parquet.AddColumns("column", "type", "nulls", "--text-field");
                foreach (var c in columns.Select(c => c!.AsObject()))
                {
                    parquet.AddRow(Markup.Escape(c["name"]!.GetValue<string>()), Markup.Escape(c["type"]!.GetValue<string>()), c["nullable"]!.GetValue<bool>() ? "may hold" : "none", c["text"]!.GetValue<bool>() ? "yes" : "");
                }

                console.Write(parquet);
                continue;
            }

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
            if (file["metadata"] is JsonObject metadata)
            {
                console.Write(Tables.KeyValue("__metadata__", metadata.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }

            if (file["other_values"] is JsonObject others)
            {
                console.Write(Tables.KeyValue("other values (not tensors)", others.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }
        }
    }
}
