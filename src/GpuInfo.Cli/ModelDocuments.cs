using System.Text;
using System.Text.Json;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>
/// The documents of <c>--text</c>: each file is one, read whole as UTF-8, except a <c>.jsonl</c> (or <c>.ndjson</c>) file,
/// whose every line is a JSON object holding one document in a string field (blank lines skipped).
/// </summary>
internal static class ModelDocuments
{
    /// <summary>The longest text read whole: .NET's longest string, in UTF-8 bytes (each byte is at most one character).</summary>
    internal const long MaxTextBytes = 0x3FFFFFDF;

    /// <summary>Every document of the files, in order, each named by its file (and line, for .jsonl).</summary>
    public static List<(string Name, string Content)> Read(IEnumerable<string> files, string field)
    {
        var documents = new List<(string, string)>();
        foreach (string path in files)
        {
            string content = ReadUtf8(path);
            if (!IsJsonLines(path))
            {
                documents.Add((path, content));
                continue;
            }

            int before = documents.Count;
            int line = 0;
            foreach (var text in content.Split('\n'))
            {
                line++;
                if (!string.IsNullOrWhiteSpace(text))
                {
                    documents.Add(($"{path}:{line}", Field(path, line, text, field)));
                }
            }

            if (documents.Count == before)
            {
                throw new InvalidFileException(path, "holds no documents (every line is blank).");
            }
        }

        return documents;
    }

    /// <summary>Whether a file holds one JSON document per line (.jsonl, .ndjson).</summary>
    public static bool IsJsonLines(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase);

    private static string Field(string path, int line, string text, string field)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidFileException(path, $"line {line} is a JSON {json.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object holding a document in \"{field}\".");
            }

            if (!json.RootElement.TryGetProperty(field, out var value))
            {
                throw new InvalidFileException(path, $"line {line} has no \"{field}\" field (--text-field names the document's).");
            }

            return value.ValueKind == JsonValueKind.String ? value.GetString()!
                : throw new InvalidFileException(path, $"line {line}: \"{field}\" is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not a string.");
        }
        catch (JsonException e)
        {
            throw new InvalidFileException(path, $"line {line} is not JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // A string that is not whole UTF-16 text (a lone surrogate escape, \ud800).
            throw new InvalidFileException(path, $"line {line}: \"{field}\" is not text ({e.Message.Split('\n')[0]})");
        }
    }

    private static string ReadUtf8(string path)
    {
        try
        {
            // A longer file ran out of memory part way (1.15 GB: "gpuinfo: out of memory" after 14 s).
            long size = new FileInfo(path).Length;
            if (size > MaxTextBytes)
            {
                throw new InvalidFileException(path, $"is {size} bytes; a text is read whole, at most {MaxTextBytes} bytes: split it, or give its token ids with --tokens.");
            }

            // Decoded here rather than by File.ReadAllText, which takes a UTF-16 or UTF-32 byte order mark
            // as the file's encoding: bytes FF FE and invalid UTF-8 came back as UTF-16 text.
            byte[] bytes = File.ReadAllBytes(path);
            int bom = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, bom, bytes.Length - bom);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidFileException(path, Directory.Exists(path) ? "is a folder, not a text file." : "no such text file.");
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidFileException(path, $"is not UTF-8 text ({e.Message})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, $"cannot be read: {e.Message}");
        }
    }
}
