using System.CommandLine;

namespace GpuInfo.Cli;

/// <summary>
/// An option naming one file or several (<c>--logits a.npy b.npy</c>, or a shell glob): several are
/// read as one corpus, in the order given (<see cref="Corpus.ConcatenatedRowSource"/>).
/// </summary>
internal static class FileListOption
{
    public static Option<string[]> Create(string name, string description, bool required = false) => new(name)
    {
        Description = description + " Several files (e.g. a shell glob) are read as one corpus, in the order given.",
        Required = required,
        AllowMultipleArgumentsPerToken = true,
        Arity = required ? ArgumentArity.OneOrMore : ArgumentArity.ZeroOrMore,
    };

    /// <summary>The files given, or null when the option is absent.</summary>
    public static string[]? Get(ParseResult parse, Option<string[]> option) => parse.GetValue(option) is { Length: > 0 } files ? files : null;
}
