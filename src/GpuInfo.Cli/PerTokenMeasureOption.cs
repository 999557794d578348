using System.CommandLine;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary><c>--per-token-measure</c> of the comparing verbs: which per-row value <c>--per-token</c> writes.</summary>
internal sealed class PerTokenMeasureOption
{
    private static readonly Dictionary<string, ComparisonValue> Names = new(StringComparer.Ordinal)
    {
        ["kl"] = ComparisonValue.Kl,
        ["reverse-kl"] = ComparisonValue.ReverseKl,
        ["js"] = ComparisonValue.JensenShannon,
        ["tv"] = ComparisonValue.TotalVariation,
    };

    public PerTokenMeasureOption()
    {
        Option.AcceptOnlyFromAmong([.. Names.Keys]);
    }

    public Option<string> Option { get; } = new("--per-token-measure")
    {
        Description = "What --per-token writes for each row: kl (KL(base||test), nats; the default), reverse-kl (KL(test||base)), js (Jensen-Shannon, nats) or tv (total variation: 1 minus the chance that speculative sampling accepts the test model's draft there).",
        DefaultValueFactory = _ => "kl",
    };

    /// <summary>The value asked for; a usage error where it is given without <paramref name="perToken"/>, which it would not change.</summary>
    public ComparisonValue Get(ParseResult parse, Option<string?> perToken)
    {
        if (parse.GetResult(Option) is { Implicit: false } && parse.GetValue(perToken) is null)
        {
            throw CliException.Usage("--per-token-measure chooses what --per-token writes: give --per-token OUT.npy too.");
        }

        return Names[parse.GetValue(Option)!];
    }
}
