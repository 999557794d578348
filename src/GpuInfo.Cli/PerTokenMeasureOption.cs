using System.CommandLine;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary><c>--per-token-measure</c>: which per-row value <c>--per-token</c> writes (the first name is the default).</summary>
internal sealed class PerTokenMeasureOption<T>
    where T : struct, Enum
{
    private readonly (string Name, T Value)[] _names;

    public PerTokenMeasureOption((string Name, T Value)[] names, string description)
    {
        _names = names;
        Option = new Option<string>("--per-token-measure") { Description = description, DefaultValueFactory = _ => names[0].Name };
        Option.AcceptOnlyFromAmong([.. names.Select(n => n.Name)]);
    }

    public Option<string> Option { get; }

    /// <summary>The value asked for; a usage error where it is given without <paramref name="perToken"/> (or <paramref name="perDocument"/>), which it would not change.</summary>
    public T Get(ParseResult parse, Option<string?> perToken, Option<string?>? perDocument = null)
    {
        if (parse.GetResult(Option) is { Implicit: false } && parse.GetValue(perToken) is null && (perDocument is null || parse.GetValue(perDocument) is null))
        {
            throw CliException.Usage(perDocument is null
                ? "--per-token-measure chooses what --per-token writes: give --per-token OUT.npy too."
                : "--per-token-measure chooses what --per-token and --per-document write: give one of them too.");
        }

        string name = parse.GetValue(Option)!;
        return _names.First(n => n.Name == name).Value;
    }

    /// <summary>The name of the value asked for (what --per-document calls its sums).</summary>
    public string Name(ParseResult parse) => parse.GetValue(Option)!.Replace('-', '_');
}

/// <summary>The measures the corpus verbs can write per token.</summary>
internal static class PerTokenMeasures
{
    public static PerTokenMeasureOption<ComparisonValue> Comparison() => new(
        [("kl", ComparisonValue.Kl), ("reverse-kl", ComparisonValue.ReverseKl), ("js", ComparisonValue.JensenShannon), ("tv", ComparisonValue.TotalVariation)],
        "What --per-token writes for each row: kl (KL(base||test), nats; the default), reverse-kl (KL(test||base)), js (Jensen-Shannon, nats) or tv (total variation: 1 minus the chance that speculative sampling accepts the test model's draft there).");

    public static PerTokenMeasureOption<EvaluationValue> Evaluation() => new(
        [("loss", EvaluationValue.Loss), ("entropy", EvaluationValue.Entropy), ("confidence", EvaluationValue.Confidence), ("brier", EvaluationValue.Brier)],
        "What --per-token writes for each row: loss (nats; the default), entropy (of softmax(z/T), nats, every row), confidence (the top-1 probability, every row) or brier (the Brier score); loss and brier are 0 for ignored targets and NaN where a row has none.");
}
