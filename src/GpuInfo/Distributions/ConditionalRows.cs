using GpuInfo.Corpus;

namespace GpuInfo;

/// <summary>
/// p(y|x) given one row per context x, read chunk by chunk from a <see cref="RowSource"/> (a file,
/// memory, a model): rows of logits with p(y|x) = softmax(z_x / T), or rows of probabilities; p(x)
/// uniform or proportional to <see cref="Weights"/>. The input of the Information Bottleneck over
/// model outputs (<see cref="InfoEngine.InformationBottleneck(ConditionalRows, IbOptions, IProgress{IbIteration}, CancellationToken)"/>):
/// no dense joint is ever built, so X and Y can be tens of thousands by 256k.
/// </summary>
public sealed class ConditionalRows
{
    private ConditionalRows(RowSource source, bool probabilities, double temperature, double[]? weights)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Rows < 1 || source.Rows > Array.MaxLength)
        {
            // Bad input data (exit 3 in the CLI) naming the source, and still an ArgumentException for a caller's own rows.
            throw new InvalidInputException($"{source.Name}: has {source.Rows} rows (contexts); the IB needs between 1 and {Array.MaxLength}.");
        }

        if (!(temperature > 0) || double.IsInfinity(temperature))
        {
            Guard.Throw(nameof(temperature), $"temperature must be finite and > 0, got {temperature}.");
        }

        if (float.IsInfinity((float)(1 / temperature)))
        {
            // The rows are scaled by 1/T in float32: an infinite scale made every distribution NaN.
            Guard.Throw(nameof(temperature), $"temperature {temperature} is too small: the rows are scaled by 1/T in float32, whose largest value is {float.MaxValue}.");
        }

        if (weights is not null)
        {
            if (weights.Length != source.Rows)
            {
                Guard.Throw(nameof(weights), $"has {weights.Length} entries for {source.Rows} rows of {source.Name}.");
            }

            int bad = Array.FindIndex(weights, w => !(w >= 0) || double.IsInfinity(w));
            if (bad >= 0)
            {
                Guard.Throw(nameof(weights), $"entry {bad} is {weights[bad]}; weights must be finite and >= 0.");
            }

            if (!(weights.Sum() > 0))
            {
                Guard.Throw(nameof(weights), "all weights are 0.");
            }

            if (double.IsInfinity(weights.Sum()))
            {
                Guard.Throw(nameof(weights), "the weights sum to more than a double holds; scale them down.");
            }
        }

        Source = source;
        Probabilities = probabilities;
        Temperature = temperature;
        Weights = weights;
    }

    public RowSource Source { get; }

    /// <summary>True when rows are probabilities (each summing to 1), false when they are logits.</summary>
    public bool Probabilities { get; }

    /// <summary>T in softmax(z / T) (1 for probabilities).</summary>
    public double Temperature { get; }

    /// <summary>Unnormalised p(x), or null for uniform.</summary>
    public IReadOnlyList<double>? Weights { get; }

    /// <summary>|X|: one context per row.</summary>
    public int Contexts => (int)Source.Rows;

    /// <summary>|Y|: the vocabulary.</summary>
    public int Vocab => Source.Vocab;

    /// <summary>Rows of logits (or log-probabilities); p(y|x) = softmax(z_x / <paramref name="temperature"/>).</summary>
    /// <exception cref="ArgumentException">No rows, a temperature that is not finite and positive, or weights of the wrong length, negative, not finite or all 0.</exception>
    public static ConditionalRows FromLogits(RowSource source, double temperature = 1, IReadOnlyList<double>? weights = null) =>
        new(source, probabilities: false, temperature, weights?.ToArray());

    /// <summary>Rows of probabilities, each summing to 1 (within 1e-3; each row is divided by its sum).</summary>
    /// <exception cref="ArgumentException">As <see cref="FromLogits"/>.</exception>
    public static ConditionalRows FromProbabilities(RowSource source, IReadOnlyList<double>? weights = null) =>
        new(source, probabilities: true, 1, weights?.ToArray());

    /// <summary>p(x): the weights normalised, or uniform.</summary>
    internal double[] ContextMarginal()
    {
        int x = Contexts;
        if (Weights is null)
        {
            return Enumerable.Repeat(1.0 / x, x).ToArray();
        }

        double total = Weights.Sum();
        return [.. Weights.Select(w => w / total)];
    }
}
