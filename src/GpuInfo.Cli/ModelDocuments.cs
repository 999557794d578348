using System.Text;
using System.Text.Json;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>
/// The documents of <c>--text</c>: each file is one, read whole as UTF-8, except a <c>.jsonl</c> (<c>.ndjson</c>, <c>.json</c>) file,
/// whose every line is a JSON object holding one document in a string field (blank lines skipped), read a
/// line at a time, so that it may be of any size. A file ending in <c>.gz</c> (gzip) or <c>.zst</c>
/// (Zstandard) is read through its decompressor: <c>train.jsonl.zst</c> holds JSON lines. A <c>.parquet</c> file holds a
/// document per row, in a string column (<see cref="ParquetDocuments"/>).
/// </summary>
internal static class ModelDocuments
{
    /// <summary>The longest text read whole, and the longest line: .NET's longest string, in UTF-8 bytes (each byte is at most one character).</summary>
    internal const long MaxTextBytes = 0x3FFFFFDF;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>What <c>--text</c>'s help says of the files it reads.</summary>
    internal const string FilesHelp = "A .jsonl (.ndjson, .json) file holds one document per line, in the field --text-field, and a .parquet file one per row, in the column --text-field; .gz and .zst files are decompressed.";

    /// <summary>What reports and errors call the files together: the file, or the first of several and how many follow.</summary>
    internal static string NameOf(string[] files) => files.Length == 1 ? files[0] : $"{files[0]} (+{files.Length - 1} more)";

    /// <summary>Every document of the files, in order, each named by its file (and line, for .jsonl, or row, for .parquet), read as they are asked for.</summary>
    /// <param name="bytesRead">Told the bytes of the files read so far (as stored: a compressed file's own bytes), after each document.</param>
    /// <param name="option">The option that names the field, for errors.</param>
    public static IEnumerable<(string Name, string Content)> Read(IEnumerable<string> files, string field, IProgress<long>? bytesRead = null, string option = "--text-field")
    {
        long before = 0;
        foreach (string path in files)
        {
            if (ParquetDocuments.IsParquet(path))
            {
                long from = before;
                foreach (var document in ParquetDocuments.Read(path, field, read => bytesRead?.Report(from + read), option))
                {
                    yield return document;
                }

                before += Size(path);
                continue;
            }

            if (Compression(path) is { } compressed && ParquetDocuments.IsParquet(path[..^compressed.Length]))
            {
                throw new InvalidFileException(path, "is a compressed Parquet file: Parquet compresses its own pages, so give the .parquet file as it is.");
            }

            if (!IsJsonLines(path))
            {
                string whole = ReadWhole(path);
                before += Size(path);
                bytesRead?.Report(before);
                yield return (path, whole);
                continue;
            }

            var (reader, file) = Open(path);
            using var _ = reader;
            var lines = new LineReader(reader, path);
            bool any = false;
            while (lines.Next() is { } text)
            {
                if (!string.IsNullOrWhiteSpace(text))
                {
                    any = true;
                    bytesRead?.Report(before + file.Position); // its buffers read ahead: close enough for progress
                    yield return ($"{path}:{lines.Number}", Field(path, lines.Number, text, field, option));
                }
            }

            before += Size(path);

            if (!any)
            {
                throw new InvalidFileException(path, "holds no documents (every line is blank).");
            }
        }
    }

    /// <summary>Every line of .jsonl files (blank lines skipped) as a JSON object, named <c>file:line</c>, read as they are asked for.</summary>
    /// <param name="repair">A rewriting of each line before it is parsed (<see cref="PythonJson.QuoteLiterals"/>), or null.</param>
    public static IEnumerable<(string Name, JsonElement Object)> ReadObjects(IEnumerable<string> files, Func<string, string>? repair = null)
    {
        foreach (string path in files)
        {
            if (!IsJsonLines(path))
            {
                throw new InvalidFileException(path, "is not a .jsonl (.ndjson, .json) file of one JSON object per line.");
            }

            using var reader = Open(path).Reader;
            var lines = new LineReader(reader, path);
            while (lines.Next() is { } text)
            {
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                JsonElement root;
                try
                {
                    using var json = JsonDocument.Parse(repair is null ? text : repair(text));
                    root = json.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new InvalidFileException(path, $"line {lines.Number} is not JSON{JsonHint(path, lines.Number)}: {e.Message}");
                }

                yield return root.ValueKind == JsonValueKind.Object ? ($"{path}:{lines.Number}", root)
                    : throw new InvalidFileException(path, $"line {lines.Number} is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object{JsonHint(path, lines.Number)}.");
            }
        }
    }

    /// <summary>A text file's first character that is not white space (a byte order mark passed over), or null for none.</summary>
    internal static char? FirstCharacter(string path)
    {
        using var reader = Open(path).Reader;
        var buffer = new char[4096];
        while (Read(reader, buffer, path) is > 0 and var n)
        {
            foreach (char c in buffer.AsSpan(0, n))
            {
                if (!char.IsWhiteSpace(c) && c != '\uFEFF')
                {
                    return c;
                }
            }
        }

        return null;
    }

    /// <summary>A whole text file (gzip or Zstandard read through), checked to be UTF-8, at most <see cref="MaxTextBytes"/>.</summary>
    internal static string ReadText(string path) => ReadWhole(path);

    /// <summary>A text file's characters (gzip or Zstandard read through, checked to be UTF-8) in pieces of up to 1 MiB, each piece's buffer reused by the next.</summary>
    internal static IEnumerable<(char[] Buffer, int Count)> ReadPieces(string path)
    {
        using var reader = Open(path).Reader;
        var buffer = new char[1 << 20];
        while (Read(reader, buffer, path) is > 0 and var n)
        {
            yield return (buffer, n);
        }
    }

    /// <summary>The bytes a file takes as stored (0 for one that cannot be read: its reading says why).</summary>
    public static long Size(string path)
    {
        try
        {
            return File.Exists(path) ? new FileInfo(path).Length : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Whether a file holds one JSON document per line: .jsonl, .ndjson, and .json, which C4's and
    /// Dolma's files (<c>c4-validation.00000-of-00008.json.gz</c>) are, either compressed.
    /// </summary>
    private static bool IsJsonLines(string path) =>
        Uncompressed(path) is var name && (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether a file holds its documents in fields (<c>--text-field</c>): JSON lines or Parquet rows.</summary>
    public static bool HasFields(string path) => IsJsonLines(path) || ParquetDocuments.IsParquet(path);

    private static string Uncompressed(string path) => Compression(path) is { } suffix ? path[..^suffix.Length] : path;

    /// <summary>What a .json file's first line that is not one object is told (a JSON document laid out over lines, an array).</summary>
    private static string JsonHint(string path, int line) =>
        line == 1 && Uncompressed(path).EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? " (a .json --text is read as JSON Lines, one object per line, as C4's .json.gz files hold them; give a text file another extension to score it as text)"
            : "";

    private static string? Compression(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? ".gz"
        : path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? ".zst"
        : null;

    private static string Field(string path, int line, string text, string field, string option)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidFileException(path, $"line {line} is a JSON {json.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object holding a document in \"{field}\"{JsonHint(path, line)}.");
            }

            if (!json.RootElement.TryGetProperty(field, out var value))
            {
                throw new InvalidFileException(path, $"line {line} has no \"{field}\" field ({option} names {(option == "--text-field" ? "the document's" : "it")}).");
            }

            return value.ValueKind == JsonValueKind.String ? value.GetString()!
                : throw new InvalidFileException(path, $"line {line}: \"{field}\" is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not a string.");
        }
        catch (JsonException e)
        {
            throw new InvalidFileException(path, $"line {line} is not JSON{JsonHint(path, line)}: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // A string that is not whole UTF-16 text (a lone surrogate escape, \ud800).
            throw new InvalidFileException(path, $"line {line}: \"{field}\" is not text ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>
    /// A UTF-8 reader of the file's bytes, decompressed where its name says so. A UTF-8 byte order
    /// mark is skipped; any other is not taken as the file's encoding (bytes FF FE are not UTF-8).
    /// </summary>
    private static (StreamReader Reader, FileStream File) Open(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidFileException(path, "is a folder, not a text file.");
        }

        FileStream? file = null;
        try
        {
            file = new FileStream(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            Stream bytes = Compression(path) switch
            {
                // SharpZipLib's, not .NET's GZipStream: that one ends a file cut short without an error
                // (a .jsonl.gz cut in half read as its first 989 lines and part of the 990th).
                ".gz" => new ICSharpCode.SharpZipLib.GZip.GZipInputStream(file),
                ".zst" => new ZstdSharp.DecompressionStream(file, leaveOpen: false),
                _ => file,
            };
            return (new StreamReader(bytes, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 20), file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            file?.Dispose();
            throw new InvalidFileException(path, "no such text file.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            throw new InvalidFileException(path, $"cannot be read: {e.Message}");
        }
    }

    private static string ReadWhole(string path)
    {
        if (Compression(path) is null && File.Exists(path) && new FileInfo(path).Length is var size && size > MaxTextBytes)
        {
            // A longer file ran out of memory part way (1.15 GB: "gpuinfo: out of memory" after 14 s).
            throw new InvalidFileException(path, $"is {size} bytes; a text is read whole, at most {MaxTextBytes} bytes: split it, give it as .jsonl lines (read one at a time), or give its token ids with --tokens.");
        }

        using var reader = Open(path).Reader;
        var text = new StringBuilder();
        var buffer = new char[1 << 20];
        long bytes = 0;
        while (Read(reader, buffer, path) is > 0 and var n)
        {
            bytes += Utf8.GetByteCount(buffer, 0, n);
            if (bytes > MaxTextBytes)
            {
                throw new InvalidFileException(path, $"holds more than {MaxTextBytes} bytes of text; a text is read whole, at most that: split it, give it as .jsonl lines (read one at a time), or give its token ids with --tokens.");
            }

            text.Append(buffer, 0, n);
        }

        return text.ToString();
    }

    /// <summary>Reads the next characters, naming the file in what fails: bytes that are not UTF-8, a damaged compressed stream, a read error.</summary>
    private static int Read(StreamReader reader, char[] buffer, string path)
    {
        try
        {
            return reader.Read(buffer, 0, buffer.Length);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidFileException(path, $"is not UTF-8 text ({e.Message})");
        }
        catch (EndOfStreamException e) when (Compression(path) is not null)
        {
            throw new InvalidFileException(path, $"is cut short: {e.Message}");
        }
        catch (ICSharpCode.SharpZipLib.SharpZipBaseException e)
        {
            throw new InvalidFileException(path, $"is not gzip data, or is cut short: {e.Message}");
        }
        catch (ZstdSharp.ZstdException e)
        {
            throw new InvalidFileException(path, $"is not Zstandard data, or is cut short: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, $"cannot be read: {e.Message}");
        }
        catch (Exception e) when (Compression(path) is { } suffix && e is not (OutOfMemoryException or InvalidFileException))
        {
            // A decompressor may fail on damaged data in its own way (SharpZipLib: IndexOutOfRangeException).
            throw new InvalidFileException(path, $"is damaged {(suffix == ".gz" ? "gzip" : "Zstandard")} data ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>Lines ended by '\n' alone (a '\r' before it is JSON whitespace), numbered from 1; nothing after the last '\n' is no line.</summary>
    private sealed class LineReader(StreamReader reader, string path)
    {
        private readonly char[] _buffer = new char[1 << 20];
        private readonly StringBuilder _line = new();
        private int _at, _length;
        private bool _ended;

        public int Number { get; private set; }

        public string? Next()
        {
            _line.Clear();
            bool begun = false;
            while (!_ended)
            {
                if (_at == _length)
                {
                    (_at, _length) = (0, Read(reader, _buffer, path));
                    if (_length == 0)
                    {
                        _ended = true;
                        break;
                    }
                }

                begun = true;
                int newline = Array.IndexOf(_buffer, '\n', _at, _length - _at);
                int end = newline < 0 ? _length : newline;
                if (_line.Length + (long)(end - _at) > MaxTextBytes)
                {
                    throw new InvalidFileException(path, $"line {Number + 1} is longer than {MaxTextBytes} characters, more than one document can hold.");
                }

                _line.Append(_buffer, _at, end - _at);
                _at = end;
                if (newline >= 0)
                {
                    _at++;
                    Number++;
                    return _line.ToString();
                }
            }

            if (!begun)
            {
                return null;
            }

            Number++;
            return _line.ToString();
        }
    }
}
