using System.CommandLine;
using System.Text;
using GpuInfo.Models;

namespace GpuInfo.Cli;

/// <summary>
/// How <c>--text</c> files become documents, as <c>tokenize</c> and the model runs take them: <c>--text-field</c>
/// (the field of a .jsonl line, the column of a .parquet file), <c>--text-join</c> (every document joined into
/// one text, as the Hugging Face perplexity guide joins WikiText's rows with "\n\n") and <c>--detokenize</c> (each
/// encoded as lm-evaluation-harness's wikitext task rewrites it, counted as given).
/// </summary>
internal sealed class TextDocumentOptions
{
    public Option<string> Field { get; } = new("--text-field")
    {
        Description = "The field of each line of a .jsonl --text, or the column of a .parquet one, that holds its documents.",
        DefaultValueFactory = _ => "text",
    };

    public Option<string?> Join { get; } = new("--text-join")
    {
        Description = "Join every document of --text into one text, with this between each two (\\n, \\r, \\t and \\\\ read as a line break, a carriage return, a tab and a backslash), as the Hugging Face perplexity guide joins WikiText's rows with \"\\n\\n\"; the text must fit one string (1,073,741,791 chars).",
    };

    public Option<string?> Detokenize { get; } = new("--detokenize")
    {
        Description = "Score each document as lm-evaluation-harness's wikitext task does: 'wikitext' encodes it as that task's wikitext_detokenizer rewrites it (\" @-@ \" to \"-\", \" , \" to \", \", ...) and counts the bytes and words of the document as given, as its process_results does.",
        HelpName = "wikitext",
    };

    /// <summary>These options, for lists of options that apply only with --text.</summary>
    public IEnumerable<Option> All => [Field, Join, Detokenize];

    public void AddTo(Command command)
    {
        command.Add(Field);
        command.Add(Join);
        command.Add(Detokenize);
    }

    /// <summary>What --detokenize makes of each document before it is encoded, or null.</summary>
    public Func<string, string>? Rewrite(ParseResult parse) => parse.GetValue(Detokenize) is null ? null : WikitextDetokenizer.Detokenize;

    /// <summary>The first of these options given on the command line, or null.</summary>
    public Option? FirstGiven(ParseResult parse) => All.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });

    /// <summary>The documents of <paramref name="files"/> (<see cref="ModelDocuments.Read(IEnumerable{string}, string, IProgress{long}, string)"/>), joined into one where <c>--text-join</c> asks.</summary>
    /// <exception cref="CliException">A usage error (<see cref="Check"/>).</exception>
    public IEnumerable<(string Name, string Content)> Read(ParseResult parse, string[] files, IProgress<long>? progress)
    {
        Check(parse, files);
        var documents = ModelDocuments.Read(files, parse.GetValue(Field)!, progress);
        return parse.GetValue(Join) is { } given ? Joined(documents, Separator(given), ModelDocuments.NameOf(files)) : documents;
    }

    /// <summary>Usage errors, before anything is read: --text-field without a file it applies to, or a --text-join that is not a separator.</summary>
    public void Check(ParseResult parse, string[] files)
    {
        if (parse.GetResult(Field) is { Implicit: false } && !files.Any(ModelDocuments.HasFields))
        {
            throw CliException.Usage("--text-field names the field of each line of a .jsonl --text, or the column of a .parquet one; no --text is either.");
        }

        if (parse.GetValue(Join) is { } given)
        {
            _ = Separator(given);
        }

        if (parse.GetValue(Detokenize) is { } detokenize && detokenize != WikitextDetokenizer.Name)
        {
            throw CliException.Usage($"--detokenize '{detokenize}': the detokenizer known is {WikitextDetokenizer.Name} (lm-evaluation-harness's wikitext task).");
        }
    }

    /// <summary>These options as given, to repeat on another command line (each word quoted for a POSIX shell).</summary>
    public string Given(ParseResult parse) =>
        string.Concat(All.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => $" {o.Name} '{parse.GetResult(o)!.Tokens[0].Value.Replace("'", "'\\''", StringComparison.Ordinal)}'"));

    private static IEnumerable<(string Name, string Content)> Joined(IEnumerable<(string Name, string Content)> documents, string separator, string name)
    {
        var text = new StringBuilder();
        bool first = true;
        foreach (var (documentName, content) in documents)
        {
            if (text.Length + (first ? 0L : separator.Length) + content.Length > ModelDocuments.MaxTextBytes)
            {
                throw CliException.Usage($"--text-join: the documents of {name} up to {documentName} hold more than {ModelDocuments.MaxTextBytes} chars, more than one text can hold; score them as documents (without --text-join).");
            }

            text.Append(first ? "" : separator).Append(content);
            first = false;
        }

        yield return (name, text.ToString());
    }

    /// <summary>The separator a --text-join gives, its escapes read.</summary>
    internal static string Separator(string given)
    {
        var separator = new StringBuilder();
        for (int i = 0; i < given.Length; i++)
        {
            if (given[i] != '\\')
            {
                separator.Append(given[i]);
                continue;
            }

            separator.Append((i + 1 < given.Length ? given[++i] : '\0') switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '\\' => '\\',
                _ => throw CliException.Usage($"--text-join '{given}': a backslash is read with the character after it as \\n, \\r, \\t or \\\\; write a backslash as \\\\."),
            });
        }

        return separator.ToString();
    }
}
