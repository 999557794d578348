using System.CommandLine;

namespace GpuInfo.Cli;

/// <summary>
/// An option naming one file or several (<c>--logits a.npy b.npy</c>, or a shell glob): several are
/// read as one corpus, in the order given (<see cref="Corpus.ConcatenatedRowSource"/>).
/// </summary>
internal static class FileListOption
{
    /// <param name="join">Whether several files are one corpus (said in the description); false where the caller's description says what several are.</param>
    public static Option<string[]> Create(string name, string description, bool required = false, bool join = true)
    {
        var option = new Option<string[]>(name)
        {
            Description = description + (join ? " Several files (e.g. a shell glob) are read as one corpus, in the order given." : ""),
            Required = required,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore, // when given, at least one file; an optional list may still be left out
        };

        // A list takes every word up to the next option, and the parser hands it an option's name
        // when no file came before it ("--logits --targets y.npy"): that is a missing file, not a file.
        option.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault(t => t.Value.StartsWith("--", StringComparison.Ordinal)) is { } token)
            {
                result.AddError($"{name} needs one or more files before the next option; got '{token.Value}'.");
                return;
            }

            // A file given twice would be read twice as rows of one corpus, every standard error too small.
            var seen = new Dictionary<string, string>();
            foreach (var file in result.Tokens)
            {
                string full = Formats.FileKind.Resolved(file.Value); // a link and the file it names are one file
                if (!seen.TryAdd(full, file.Value))
                {
                    result.AddError($"{name} names {file.Value} twice{(seen[full] == file.Value ? "" : $" (as {seen[full]})")}: each file is read once.");
                    return;
                }
            }
        });
        return option;
    }

    /// <summary>The files given, or null when the option is absent.</summary>
    public static string[]? Get(ParseResult parse, Option<string[]> option) => parse.GetValue(option) is { Length: > 0 } files ? files : null;
}
