using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>Reads the matrices of the distribution verbs, turning content errors into data errors naming the file.</summary>
internal static class MatrixInput
{
    public static JointDistribution Joint(string path)
    {
        var (weights, rows, columns) = Flat(path, "a joint");
        return Checked(path, () => JointDistribution.FromOwnedWeights(weights, rows, columns));
    }

    /// <summary>A matrix [X, Y] (a joint, a table of counts), row-major.</summary>
    public static (double[] Values, int Rows, int Columns) Flat(string path, string what)
    {
        RequireMatrix(path, what);
        return MatrixFile.ReadFlat(path);
    }

    /// <summary>A channel W[x][y], read whole.</summary>
    public static double[,] Channel(string path)
    {
        RequireMatrix(path, "a channel");
        return MatrixFile.Read(path);
    }

    /// <summary>The Blahut-Arimoto verbs' --tolerance (finite, > 0) and --max-iterations (>= 1), checked.</summary>
    public static (double Tolerance, int MaxIterations) Stopping(double tolerance, int maxIterations) =>
        tolerance > 0 && double.IsFinite(tolerance) && maxIterations >= 1
            ? (tolerance, maxIterations)
            : throw CliException.Usage($"--tolerance must be finite and > 0 and --max-iterations >= 1 (got {tolerance} and {maxIterations}).");

    /// <summary>
    /// A joint or a channel is a matrix: MatrixFile reads a vector as one row, and one row x has
    /// nothing to tell apart (I(X;Y) = 0, capacity 0), so a flattened file read as 0 bits, converged.
    /// </summary>
    private static void RequireMatrix(string path, string what)
    {
        var info = TensorInfo.Open(path);
        if (info.Rank != 2)
        {
            throw CliException.BadData($"{path}: {what} must be a matrix [X, Y]; the shape is {info.ShapeText}.");
        }
    }

    /// <summary>Runs work whose argument or row errors are about the file's contents.</summary>
    public static T Checked<T>(string path, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (InvalidInputException e)
        {
            throw CliException.BadData($"{path}: {(e.Row >= 0 ? $"row {e.Row}: " : string.Empty)}{e.Problem}");
        }
        catch (ArgumentException e) when (e.ParamName is "joint" or "channel" or "source" or "distortion")
        {
            throw CliException.BadData($"{path}: {e.Message.Split(" (Parameter")[0]}");
        }
    }
}
