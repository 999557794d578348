using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A model given as a folder, as exports lay one out: optimum's <c>optimum-cli export onnx</c> (<c>model.onnx</c>, or
/// <c>decoder_model_merged.onnx</c> beside <c>decoder_model.onnx</c>, with <c>tokenizer.json</c>) and transformers.js
/// repositories (<c>onnx/model.onnx</c> among its quantized variants, the tokenizer in the folder above).
/// </summary>
public static class OnnxModelFolder
{
    /// <summary>The files a folder's model is, in order of preference: a decoder with its past merged in before the one without.</summary>
    private static readonly string[] Preferred = ["model.onnx", "decoder_model_merged.onnx", "decoder_model.onnx"];

    /// <summary>The files a folder holds a tokenizer in (<see cref="TokenizerCatalog.Load"/> reads a folder holding one).</summary>
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "vocab.json", "tokenizer.model"];

    /// <summary>
    /// The model file of a folder: the first of model.onnx, decoder_model_merged.onnx and decoder_model.onnx there, else
    /// in its <c>onnx</c> folder, else its one <c>.onnx</c> file.
    /// </summary>
    /// <exception cref="InvalidFileException">A folder holding none, or several others, naming them.</exception>
    public static string ModelFile(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string[] places = [folder, Path.Combine(folder, "onnx")];
        foreach (string place in places.Where(Directory.Exists))
        {
            if (Preferred.Select(name => Path.Combine(place, name)).FirstOrDefault(File.Exists) is { } preferred)
            {
                return preferred;
            }
        }

        string[] models = [.. places.Where(Directory.Exists).SelectMany(p => Directory.EnumerateFiles(p, "*.onnx")).Order(StringComparer.Ordinal)];
        return models.Length switch
        {
            1 => models[0],
            0 => throw new InvalidFileException(folder, "is a folder holding no .onnx model (nor an onnx folder with one)."),
            _ => throw new InvalidFileException(folder, $"is a folder holding several .onnx models and none named {string.Join(", ", Preferred)}: give one of {string.Join(", ", models.Select(Path.GetFileName))}."),
        };
    }

    /// <summary>
    /// The folder holding the tokenizer of a model given as a folder: that folder where it holds a tokenizer.json,
    /// vocab.json or tokenizer.model, else, for an <c>onnx</c> folder, the folder above; else null, as for a model file
    /// (whose folder may hold other models' tokenizers).
    /// </summary>
    public static string? TokenizerFolder(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? folder = Directory.Exists(model) ? model : null;
        for (int up = 0; folder is not null && up < 2; up++)
        {
            if (TokenizerFiles.Any(f => File.Exists(Path.Combine(folder, f))))
            {
                return folder;
            }

            folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) == "onnx" ? Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))) : null;
        }

        return null;
    }

    /// <summary>
    /// The config.json of a model (a folder, or a file in one): in its folder, else, for an <c>onnx</c> folder, the folder
    /// above, as optimum and transformers.js lay exports out; null where there is none.
    /// </summary>
    public static string? ConfigFile(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory.Exists(model) ? model : Path.GetDirectoryName(Path.GetFullPath(model))!));
        string config = Path.Combine(folder, "config.json");
        if (File.Exists(config))
        {
            return config;
        }

        string? above = Path.GetFileName(folder) == "onnx" ? Path.GetDirectoryName(folder) : null;
        return above is not null && File.Exists(Path.Combine(above, "config.json")) ? Path.Combine(above, "config.json") : null;
    }
}
