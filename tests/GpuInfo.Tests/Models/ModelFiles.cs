using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>The models, tokenizer, texts and goldens that make_models.py wrote beside this file.</summary>
internal static class ModelFiles
{
    /// <summary>The tokenizer's vocabulary, which bigram.onnx and window.onnx share.</summary>
    public const int Vocab = 300;

    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Models", name);

    public static string VocabJson => Path("vocab.json");

    public static string SampleText => Path("sample.txt");

    public static JsonObject Golden => (JsonObject)JsonNode.Parse(File.ReadAllText(Path("golden.json")))!;

    public static TokenizedText Sample() => TokenizerCatalog.Load(VocabJson).Encode(File.ReadAllText(SampleText), SampleText);
}
