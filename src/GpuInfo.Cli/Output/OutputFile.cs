using System.CommandLine;
using System.CommandLine.Parsing;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Output paths are checked before a command does its work, so that a missing folder or a
/// read-only place fails at once rather than after an hour's solve, and writes nothing.
/// </summary>
internal static class OutputFile
{
    /// <summary>Throws a usage error (exit 2) naming <paramref name="path"/> when it cannot be written; nothing for null.</summary>
    public static void Check(string? path)
    {
        if (path is null)
        {
            return;
        }

        if (Directory.Exists(path))
        {
            throw CliException.Usage($"{path}: cannot write: it is a folder.");
        }

        if (Formats.FileKind.IsSpecial(path))
        {
            // A named pipe's reader would take the probe's open and close for the whole output; a
            // device shows whether it takes writes when written.
            return;
        }

        // .NET says "could not find a part of the path" for both; name which.
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            throw CliException.Usage(FileInTheWay(folder) is { } file ? $"{path}: cannot write: {file} is a file, not a folder." : $"{path}: cannot write: no folder {folder}.");
        }

        bool existed = File.Exists(path);
        try
        {
            // OpenOrCreate: an existing file is left as it is (it may be a later input's; the command refuses that itself).
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }

            if (!existed)
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    /// <summary>The file that stands where <paramref name="folder"/> or one of the folders above it should be, if any.</summary>
    public static string? FileInTheWay(string folder)
    {
        for (string? f = Path.GetFullPath(folder); !string.IsNullOrEmpty(f); f = Path.GetDirectoryName(f))
        {
            if (File.Exists(f))
            {
                return f;
            }

            if (Directory.Exists(f))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The options that name a file the command writes.</summary>
    internal static readonly string[] OutputOptions = ["--per-token", "--per-document", "--partial", "--out", "--assignments", "--decoders", "--csv", "--plot"];

    /// <summary>
    /// Throws a usage error (exit 2) where an output option names a file that the same command reads (an
    /// option's value or an argument): a per-token file opened over its own logits emptied them before
    /// they were read, and convert's --out replaced its --logits.
    /// </summary>
    public static void CheckNotAnInput(ParseResult parse)
    {
        var outputs = new List<(string Option, string Path)>();
        var inputs = new List<(string Where, string Path)>();
        foreach (var child in parse.CommandResult.Children)
        {
            switch (child)
            {
                case OptionResult option when OutputOptions.Contains(option.Option.Name):
                    outputs.AddRange(option.Tokens.Select(t => (option.Option.Name, t.Value)));
                    break;
                case OptionResult option:
                    inputs.AddRange(option.Tokens.Select(t => (option.Option.Name, t.Value)));
                    break;
                case ArgumentResult argument:
                    inputs.AddRange(argument.Tokens.Select(t => ("an argument", t.Value)));
                    break;
            }
        }

        foreach (var (option, path) in outputs)
        {
            string output = Formats.FileKind.Resolved(path);
            if (inputs.FirstOrDefault(i => File.Exists(i.Path) && Formats.FileKind.Resolved(i.Path) == output) is ({ } where, _))
            {
                throw CliException.Usage($"{path}: is both read ({where}) and written ({option}); write the output elsewhere.");
            }
        }
    }
}
