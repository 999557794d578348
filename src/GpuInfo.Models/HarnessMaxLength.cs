using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// lm-evaluation-harness's <c>max_length</c> of a Hugging Face model where none is given (<c>resolve_max_length</c> in
/// lm_eval/models/utils.py): the model config's <c>n_positions</c>, else <c>max_position_embeddings</c>, else
/// <c>n_ctx</c> (of its <c>text_config</c> where it nests one), else the tokenizer's <c>model_max_length</c> unless it is
/// transformers' "unset" 1e30, else 2048. Read from an export's <c>config.json</c> and <c>tokenizer_config.json</c>:
/// a key the file leaves out, which the config's class would give its default, is not known here.
/// </summary>
public static class HarnessMaxLength
{
    /// <summary>The harness's <c>DEFAULT_MAX_LENGTH</c>.</summary>
    public const int Default = 2048;

    private static readonly string[] ConfigKeys = ["n_positions", "max_position_embeddings", "n_ctx"];

    /// <summary>
    /// The length and where it comes from, in words. A length beyond <see cref="int.MaxValue"/> is that (no request is
    /// as long, so none is cut either way).
    /// </summary>
    /// <param name="config">The model's config.json, or null where it has none.</param>
    /// <param name="tokenizerConfig">The tokenizer's tokenizer_config.json, or null where it has none.</param>
    /// <exception cref="InvalidFileException">A file that is not a JSON object, or a length in it that is not a whole number of at least 2.</exception>
    public static (int Length, string Source) Resolve(string? config, string? tokenizerConfig)
    {
        if (config is not null && FromConfig(config) is { } configured)
        {
            return configured;
        }

        if (tokenizerConfig is not null && Read(tokenizerConfig) is { } tokenizer
            && tokenizer["model_max_length"] is { } length && length.GetValueKind() != JsonValueKind.Null)
        {
            // transformers' VERY_LARGE_INTEGER, int(1e30), written as an integer or a float: "unset".
            if (length.GetValueKind() == JsonValueKind.Number && length.GetValue<double>() == 1e30)
            {
                return (Default, $"the harness's default (the tokenizer's model_max_length in {tokenizerConfig} is 1e30, unset)");
            }

            return (Length(tokenizerConfig, "model_max_length", length), $"{tokenizerConfig}'s model_max_length");
        }

        return (Default, $"the harness's default ({(config is null ? "no config.json beside the model" : $"{config} names no n_positions, max_position_embeddings or n_ctx")})");
    }

    /// <summary>The length a model's config.json names (its text_config's first), and which key; null where it names none or there is no file.</summary>
    /// <exception cref="InvalidFileException">A file that is not a JSON object, or a length that is not a whole number of at least 2.</exception>
    public static (int Length, string Source)? FromConfig(string config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Read(config) is not { } root)
        {
            return null;
        }

        var settings = root["text_config"] as JsonObject ?? root;
        string prefix = ReferenceEquals(settings, root) ? "" : "text_config.";
        foreach (string key in ConfigKeys)
        {
            if (settings[key] is { } value && value.GetValueKind() != JsonValueKind.Null)
            {
                return (Length(config, prefix + key, value), $"{config}'s {prefix}{key}");
            }
        }

        return null;
    }

    private static JsonObject? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidFileException(path, "is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidFileException(path, $"is not JSON: {e.Message.Split('\n')[0]}");
        }
    }

    private static int Length(string path, string key, JsonNode value)
    {
        if (value.GetValueKind() != JsonValueKind.Number || value.GetValue<double>() is var number && (number != Math.Floor(number) || number < 2))
        {
            throw new InvalidFileException(path, $"its {key} is {value.ToJsonString()}, not a context length (a whole number of at least 2): give --context.");
        }

        return number >= int.MaxValue ? int.MaxValue : (int)number;
    }
}
