using System.Buffers;

namespace GpuInfo;

/// <summary>
/// Checks targets against the vocabulary and the ignore index, and produces the int32 targets the
/// backends read, with ignored rows marked <see cref="Ignored"/> (valid classes are never negative,
/// so any ignore index, even one inside [0, V) as PyTorch allows, maps to one sentinel).
/// </summary>
internal static class TargetValidator
{
    public const int Ignored = -1;

    /// <summary>Validated targets in a pooled array; return it with <see cref="Return"/>.</summary>
    public static int[] Validate(in Targets targets, long rows, int vocab, long ignoreIndex, string name = "targets")
    {
        if (!targets.IsPresent)
        {
            Guard.Throw(name, "targets are required for this measure.");
        }

        if (targets.Length != rows)
        {
            Guard.Throw(name, $"expected one target per row ({rows}), got {targets.Length}.");
        }

        var result = ArrayPool<int>.Shared.Rent(Math.Max(1, targets.Length));
        for (int row = 0; row < targets.Length; row++)
        {
            long t = targets[row];
            if (t == ignoreIndex)
            {
                result[row] = Ignored;
            }
            else if (t < 0 || t >= vocab)
            {
                ArrayPool<int>.Shared.Return(result);
                throw new InvalidInputException(name, row,
                    $"target {t} is outside [0, {vocab}) and is not the ignore index ({ignoreIndex}).");
            }
            else
            {
                result[row] = (int)t;
            }
        }

        return result;
    }

    public static void Return(int[]? validated)
    {
        if (validated is not null)
        {
            ArrayPool<int>.Shared.Return(validated);
        }
    }

    /// <summary>Scored rows and Σ w_y over them (the count when unweighted), in float64.</summary>
    public static (long Scored, double WeightSum) Denominator(ReadOnlySpan<int> validated, float[]? weights)
    {
        long scored = 0;
        double sum = 0;
        foreach (int y in validated)
        {
            if (y != Ignored)
            {
                scored++;
                sum += weights is null ? 1.0 : weights[y];
            }
        }

        return (scored, sum);
    }
}
