using System.CommandLine;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary>
/// <c>--classes N</c> of compare and compare-models: compare the first N classes of both sides'
/// rows, for two models whose vocabularies differ only in padding (<see cref="VocabularyPrefixRowSource"/>).
/// </summary>
internal sealed class ClassesOption
{
    public Option<int?> Option { get; } = new("--classes")
    {
        Description = "Compare the first N classes of each row only, each side renormalised over them, for models whose vocabularies differ in padding (Qwen2.5 0.5B-3B: 151936, 7B+: 152064); "
            + $"a row that puts more than {VocabularyPrefixRowSource.DefaultMaxDroppedMass} of its probability beyond them is an error.",
    };

    /// <summary>What a vocabulary mismatch message adds: how to compare the classes both sides have.</summary>
    public static string Hint(int baseVocab, int testVocab) =>
        $" If the extra classes are padding, --classes {Math.Min(baseVocab, testVocab)} compares the classes both have.";

    /// <summary>Both sources cut to --classes (or as they are without it); the cut ones are disposed with the returned scope.</summary>
    /// <exception cref="CliException">--classes below 1 (usage), or above either side's vocabulary (bad data, naming the file).</exception>
    public (RowSource Base, RowSource Test, IDisposable Scope) Cut(ParseResult parse, RowSource p, RowSource q, float temperature)
    {
        if (parse.GetValue(Option) is not int classes)
        {
            return (p, q, new Scope([]));
        }

        if (classes < 1)
        {
            throw CliException.Usage($"--classes must be at least 1; got {classes}.");
        }

        foreach (var side in new[] { p, q })
        {
            if (side.Vocab < classes)
            {
                throw CliException.BadData($"{side.Name}: vocabulary {side.Vocab} has fewer classes than --classes {classes}.");
            }
        }

        var cp = new VocabularyPrefixRowSource(p, classes, temperature);
        var cq = new VocabularyPrefixRowSource(q, classes, temperature);
        return (cp, cq, new Scope([cp, cq]));
    }

    public bool Given(ParseResult parse) => parse.GetValue(Option) is not null;

    private sealed class Scope(RowSource[] sources) : IDisposable
    {
        public void Dispose()
        {
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }
    }
}
