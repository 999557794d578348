using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// The special tokens a <c>tokenizer.json</c>'s <c>post_processor</c> puts around a single text, as
/// Hugging Face's <c>tokenizer(text)</c> does by default (<c>add_special_tokens=True</c>): Llama 3's
/// <c>&lt;|begin_of_text|&gt;</c> before it (a <c>Sequence</c> of <c>ByteLevel</c> and
/// <c>TemplateProcessing</c>), a RoBERTa's or BERT's <c>cls</c> before it and <c>sep</c> after it;
/// GPT-2's and Qwen's (<c>ByteLevel</c> only) put nothing. A template's special tokens take the ids
/// its <c>special_tokens</c> map gives, as the Rust library does. Other kinds, and a template with a
/// token inside the text or with no text in it, are refused by name rather than left out.
/// </summary>
internal static class HuggingFacePostProcessor
{
    public static (int[] Before, int[] After) Read(JsonNode? node, string path)
    {
        if (node is null)
        {
            return ([], []);
        }

        if (node is not JsonObject processor || processor["type"]?.GetValue<string>() is not { } type)
        {
            throw new InvalidFileException(path, "has a post_processor with no \"type\".");
        }

        switch (type)
        {
            case "ByteLevel":
                return ([], []);
            case "Sequence":
                var before = new List<int>();
                var after = new List<int>();
                foreach (var inner in processor["processors"] as JsonArray ?? [])
                {
                    // Each processor wraps what the ones before it made.
                    var (b, a) = Read(inner, path);
                    before.InsertRange(0, b);
                    after.AddRange(a);
                }

                return ([.. before], [.. after]);
            case "TemplateProcessing":
                return Template(processor, path);
            case "BertProcessing" or "RobertaProcessing":
                return ([PairId(processor["cls"], "cls", path)], [PairId(processor["sep"], "sep", path)]);
            default:
                throw new InvalidFileException(path, $"has a {type} post_processor; this reads ByteLevel, TemplateProcessing, BertProcessing, RobertaProcessing and a Sequence of them.");
        }
    }

    /// <summary>The single-text template's special tokens before and after <c>$A</c>.</summary>
    private static (int[] Before, int[] After) Template(JsonObject processor, string path)
    {
        var items = processor["single"] as JsonArray ?? throw new InvalidFileException(path, "has a TemplateProcessing post_processor with no \"single\" template.");
        var before = new List<int>();
        var after = new List<int>();
        bool seen = false;
        foreach (var item in items)
        {
            if (item?["Sequence"] is JsonObject)
            {
                if (seen)
                {
                    throw new InvalidFileException(path, "has a post_processor template for one text with two sequences in it.");
                }

                seen = true;
            }
            else if (item?["SpecialToken"]?["id"] is JsonValue name && name.TryGetValue(out string? token))
            {
                var ids = processor["special_tokens"]?[token]?["ids"] as JsonArray
                    ?? throw new InvalidFileException(path, $"has a post_processor template whose special token '{token}' is not in its special_tokens.");
                (seen ? after : before).AddRange(ids.Select(id => id is JsonValue v && v.TryGetValue(out int i) && i >= 0 ? i
                    : throw new InvalidFileException(path, $"gives the post_processor's special token '{token}' an id that is not a vocabulary index.")));
            }
            else
            {
                throw new InvalidFileException(path, "has a post_processor template item that is neither a Sequence nor a SpecialToken.");
            }
        }

        return seen ? ([.. before], [.. after]) : throw new InvalidFileException(path, "has a post_processor template for one text with no sequence ($A) in it.");
    }

    /// <summary>The id of a <c>[token, id]</c> pair (BertProcessing's and RobertaProcessing's cls and sep).</summary>
    private static int PairId(JsonNode? pair, string key, string path) =>
        pair is JsonArray { Count: 2 } p && p[1] is JsonValue v && v.TryGetValue(out int id) && id >= 0 ? id
            : throw new InvalidFileException(path, $"has a post_processor whose {key} is not a [token, id] pair.");
}
