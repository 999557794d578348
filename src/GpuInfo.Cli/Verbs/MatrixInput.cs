using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary>Reads the matrices of the distribution verbs, turning content errors into data errors naming the file.</summary>
internal static class MatrixInput
{
    public static JointDistribution Joint(string path)
    {
        var (weights, rows, columns) = MatrixFile.ReadFlat(path);
        return Checked(path, () => JointDistribution.FromOwnedWeights(weights, rows, columns));
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
