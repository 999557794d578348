namespace GpuInfo.Cli.Streaming;

/// <summary>Turns an engine's row error inside a chunk into a data error naming the file and the file's row.</summary>
internal static class RowErrors
{
    public static CliException ToCli(InvalidInputException e, long firstRow, string file) =>
        CliException.BadData($"{file}: row {firstRow + e.Row}: {e.Problem}");
}
