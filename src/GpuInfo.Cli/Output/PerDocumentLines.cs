using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Output;

/// <summary>A <c>--per-document</c> file: one JSON line per document, written whole or not at all.</summary>
internal static class PerDocumentLines
{
    public static void Write(string path, IEnumerable<JsonObject> lines)
    {
        string partial = path + ".partial";
        try
        {
            File.WriteAllLines(partial, lines.Select(Json.Line)); // a non-finite figure as null, as in the report
            File.Move(partial, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(partial);
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
