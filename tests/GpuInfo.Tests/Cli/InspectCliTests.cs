using System.Text.Json.Nodes;
using GpuInfo.Formats;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary><c>gpuinfo inspect</c>: every tensor of a file with its dtype, shape and whether it is read, against the files' own contents.</summary>
public sealed class InspectCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonArray Tensors(JsonObject report, int file) => report["files"]![file]!["tensors"]!.AsArray();

    private static long[] Shape(JsonNode tensor) => [.. tensor["shape"]!.AsArray().Select(d => d!.GetValue<long>())];

    [Fact]
    public void A_torch_file_lists_its_tensors_as_the_readers_see_them()
    {
        string nested = TorchFormatTests.Fixture("nested.pt"), dict = TorchFormatTests.Fixture("dict.pt");
        var report = CliRunner.Json("inspect", nested, dict);
        var tensors = Tensors(report, 0);
        Assert.Equal(["out.logits", "ids.0"], tensors.Select(t => (string)t!["name"]!));
        var logits = TensorInfo.Open(nested, "out.logits");
        Assert.Equal(logits.Shape, Shape(tensors[0]!));
        Assert.Equal("float32", (string)tensors[0]!["dtype"]!);
        Assert.Equal(logits.ByteLength, (long)tensors[0]!["bytes"]!);
        Assert.Equal(logits.DataOffset, (long)tensors[0]!["data_offset"]!);
        Assert.Equal("int32", (string)tensors[1]!["dtype"]!);
        Assert.All(tensors, t => Assert.True((bool)t!["readable"]!));
        Assert.Equal(NpyFormat.Read(TorchFormatTests.Fixture("nested.out.logits.npy")).Shape, Shape(tensors[0]!));

        var others = report["files"]![1]!["other_values"]!.AsObject();
        Assert.Equal(["note", "step"], others.Select(kv => kv.Key).Order());
        Assert.Equal("int64", (string)Tensors(report, 1).Single(t => (string)t!["name"]! == "labels")!["dtype"]!);
    }

    /// <summary>An ONNX model: its ports with what perplexity feeds and reads, its external data; a model perplexity refuses is that error.</summary>
    [Fact]
    public void A_model_lists_its_ports_with_what_perplexity_feeds_them()
    {
        string cached = Models.ModelFiles.Path("bigram_merged.onnx"), external = Models.ModelFiles.Path("external_a/window.onnx");
        var report = CliRunner.Json("inspect", cached, external);
        var model = report["files"]![0]!.AsObject();
        Assert.Equal("onnx", (string)model["format"]!);
        Assert.Equal(Models.ModelFiles.Vocab, (int)model["vocab"]!);
        var fed = model["inputs"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (string)p!["fed"]!);
        Assert.Equal(["input_ids", "attention_mask", "past_key_values.0.key", "past_key_values.0.value", "use_cache_branch"], fed.Keys);
        Assert.Equal("empty: [batch, 2, 0, 4]", fed["past_key_values.0.key"]);
        Assert.StartsWith("false", fed["use_cache_branch"], StringComparison.Ordinal);
        Assert.Equal("""["batch_size",2,"past_sequence_length",4]""", model["inputs"]![2]!["shape"]!.ToJsonString());
        var read = model["outputs"]!.AsArray().Where(p => p!["read"] is not null).Select(p => (string)p!["name"]!);
        Assert.Equal(["logits"], read);
        Assert.Empty(model["external_data"]!.AsArray());
        var data = report["files"]![1]!["external_data"]!.AsArray().Single()!;
        Assert.Equal(Path.Combine(Path.GetDirectoryName(external)!, "window.onnx_data"), (string)data["path"]!);
        Assert.Equal(new FileInfo((string)data["path"]!).Length, (long)data["bytes"]!);
        Assert.True((bool)model["causal"]!);
        Assert.StartsWith("none: ONNX Runtime failed on a window fed its first tokens' keys and values", (string)model["past_reuse"]!); // its present.* doubles its past
        Assert.Equal("none: it takes no past", (string)report["files"]![1]!["past_reuse"]!);
        Assert.StartsWith("present.0.key… fed back as past_key_values.0.key…", (string)CliRunner.Json("inspect", Models.ModelFiles.Path(Path.Combine("optimum", "gpt2_with_past.onnx")))["files"]![0]!["past_reuse"]!);
        CliRunner.Fails(3, ["noncausal.onnx", "is not causal as run here"], "inspect", Models.ModelFiles.Path("noncausal.onnx"));
        var fixedWindow = CliRunner.Json("inspect", Models.ModelFiles.Path("fixed_window.onnx"))["files"]![0]!;
        Assert.Null(fixedWindow["causal"]); // it does not run on the check's 4-token windows
        Assert.Contains("use_cache_branch", CliRunner.Run("inspect", cached).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensors_that_are_not_read_say_why()
    {
        var report = CliRunner.Json("inspect", TorchFormatTests.Fixture("noncontiguous.pt"), TorchFormatTests.Fixture("uint8.pt"));
        var view = Tensors(report, 0).Single(t => (string)t!["name"]! == "logits")!;
        Assert.False((bool)view["readable"]!);
        Assert.Contains(".contiguous()", (string)view["problem"]!, StringComparison.Ordinal);
        Assert.True((bool)Tensors(report, 0).Single(t => (string)t!["name"]! == "ok")!["readable"]!);
        var mask = Tensors(report, 1).Single(t => (string)t!["name"]! == "mask")!;
        Assert.False((bool)mask["readable"]!);
        Assert.Equal("uint8", (string)mask["dtype"]!);
    }

    [Fact]
    public void Safetensors_npy_and_kld_files_are_described()
    {
        string st = _dir.File("two.safetensors"), npy = _dir.File("x.npy");
        SafetensorsFormat.Write(st, [("logits", DType.BFloat16, [2, 3, 5], new byte[60]), ("labels", DType.Int64, [2, 3], new byte[48])]);
        NpyFormat.Write<float>(npy, new float[21], [3, 7]);
        string kld = Path.Combine(AppContext.BaseDirectory, "Formats", "LlamaCpp", "base.kld");
        var report = CliRunner.Json("inspect", st, npy, kld);
        var tensors = Tensors(report, 0);
        Assert.Equal(["logits", "labels"], tensors.Select(t => (string)t!["name"]!));
        Assert.Equal(["bfloat16", "int64"], tensors.Select(t => (string)t!["dtype"]!));
        Assert.Equal([2L, 3, 5], Shape(tensors[0]!));
        Assert.Equal(60, (long)tensors[0]!["bytes"]!);
        Assert.Equal([3L, 7], Shape(Tensors(report, 1).Single()!));
        var header = report["files"]![2]!.AsObject();
        var format = KldFormat.Read(kld);
        Assert.Equal(format.Vocab, (int)header["n_vocab"]!);
        Assert.Equal(format.Context, (int)header["n_ctx"]!);
        Assert.Equal(format.Rows, (long)header["rows"]!);

        // The table (no --json) holds shapes, whose brackets are not markup.
        var (code, stdout, stderr) = CliRunner.Run("inspect", st, npy, kld);
        Assert.True(code == 0, stderr);
        Assert.Contains("[2, 3, 5]", stdout, StringComparison.Ordinal);
        Assert.Contains("n_vocab", stdout, StringComparison.Ordinal);
        Assert.Null(report["files"]![0]!["metadata"]);
    }

    /// <summary>A .safetensors file's __metadata__ is listed: a tokenized corpus's tokenizer, a checkpoint's format.</summary>
    [Fact]
    public void A_safetensors_files_metadata_is_listed()
    {
        string corpus = _dir.File("corpus.safetensors");
        using (var writer = new GpuInfo.Models.TokenizedCorpusWriter(corpus, new GpuInfo.Models.TokenizedCorpusInfo { Tokenizer = "gpt2", Vocabulary = 50257 }))
        {
            writer.Add(new GpuInfo.Models.TokenizedText([1, 2, 3], null, "a.txt", "gpt2"));
            writer.Commit();
        }

        var file = CliRunner.Json("inspect", corpus)["files"]![0]!;
        Assert.Equal("gpuinfo.tokenized_corpus", (string)file["metadata"]!["format"]!);
        Assert.Equal("50257", (string)file["metadata"]!["vocabulary"]!);
        Assert.Equal(["ids", "document_starts", "document_edges", "document_names"], file["tensors"]!.AsArray().Select(t => (string)t!["name"]!));
        var (code, stdout, _) = CliRunner.Run("inspect", corpus);
        Assert.Equal(0, code);
        Assert.Contains("__metadata__", stdout, StringComparison.Ordinal);
        Assert.Contains("gpuinfo.tokenized_corpus", stdout, StringComparison.Ordinal);
    }

    /// <summary>A .npy of a dtype it does not read (int8) stopped inspect with exit 3 and left the other files unlisted; it is listed as not read, saying why, as a .safetensors tensor is.</summary>
    [Fact]
    public void A_npy_of_a_dtype_it_does_not_read_is_listed_as_not_read()
    {
        string int8 = _dir.File("int8.npy"), npy = _dir.File("x.npy");
        NpyFormat.Write<float>(npy, new float[6], [2, 3]);
        var header = System.Text.Encoding.Latin1.GetBytes("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }".PadRight(117) + "\n");
        File.WriteAllBytes(int8, [0x93, .. "NUMPY"u8.ToArray(), 1, 0, (byte)header.Length, 0, .. header, .. new byte[6]]);
        var report = CliRunner.Json("inspect", int8, npy);
        var tensor = Tensors(report, 0).Single()!;
        Assert.False((bool)tensor["readable"]!);
        Assert.Equal("|i1", (string)tensor["dtype"]!);
        Assert.Equal([2L, 3], Shape(tensor));
        Assert.Contains("is not read", (string)tensor["problem"]!, StringComparison.Ordinal);
        Assert.True((bool)Tensors(report, 1).Single()!["readable"]!);
        CliRunner.Fails(3, ["int8.npy", "unsupported dtype '|i1'"], "eval", "--logits", int8, "--targets", npy);
    }

    [Fact]
    public void Files_it_cannot_open_are_one_line_errors()
    {
        CliRunner.Fails(3, ["module.pt", "torch.nn.modules.linear.Linear"], "inspect", TorchFormatTests.Fixture("module.pt"));
        CliRunner.Fails(3, ["nope.npy", "file not found"], "inspect", _dir.File("nope.npy"));
        System.IO.File.WriteAllText(_dir.File("notes.txt"), "hello");
        CliRunner.Fails(3, ["notes.txt", "unknown extension"], "inspect", _dir.File("notes.txt"));
        CliRunner.Fails(2, ["files"], "inspect");
    }
}
