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

    /// <summary>
    /// vocab.json and merges.txt as a Hugging Face tokenizer.json (byte-level BPE) at <paramref name="path"/>,
    /// with these added tokens (a JSON array), post_processor (a JSON object, or null) and pre_tokenizer, as
    /// make_tokenizer_templates.mjs builds it.
    /// </summary>
    public static void WriteTokenizerJson(string path, string addedTokens = "[]", string postProcessor = "null", string preTokenizer = """{"type": "ByteLevel", "add_prefix_space": false}""", string normalizer = "null")
    {
        string vocab = File.ReadAllText(VocabJson);
        var merges = File.ReadAllLines(Path("merges.txt")).Skip(1).Select(m => $"\"{m.Replace("\\", "\\\\", StringComparison.Ordinal)}\"");
        File.WriteAllText(path,
            $$"""{"model": {"type": "BPE", "vocab": {{vocab}}, "merges": [{{string.Join(",", merges)}}]}, "normalizer": {{normalizer}}, "pre_tokenizer": {{preTokenizer}}, "added_tokens": {{addedTokens}}, "post_processor": {{postProcessor}}}""");
    }

    public static TokenizedText Sample() => TokenizerCatalog.Load(VocabJson).Encode(File.ReadAllText(SampleText), SampleText);
}
