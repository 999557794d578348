using System.Text;
using GpuInfo.Formats;
using Parquet;
using Parquet.Schema;

namespace GpuInfo.Cli;

/// <summary>
/// The documents of a <c>.parquet</c> <c>--text</c> (Hugging Face datasets' files: FineWeb's, WikiText's),
/// one per row, in a top-level string column (<c>--text-field</c>, "text" by default), read a row group
/// at a time through Parquet.Net, so that a file of any size holds only one row group's column at once.
/// Each value is read as its bytes (raw: the values that are not null, and a definition level per row) and decoded here, strictly: Parquet.Net's own strings put U+FFFD in
/// place of bytes that are not UTF-8, where a .jsonl line's are refused. A null is refused, naming its row.
/// </summary>
internal static class ParquetDocuments
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Parquet.Net pools its buffers with no bound by default: a 300 MB corpus in one row group (pandas' default of
    // 1M rows puts it there) peaked at 1.56 GB, with these bounds 1.36 GB; its values read raw, without the copy
    // into a byte[] each, 0.89-1.05 GB; in row groups of 1,000 rows 0.64 GB.
    private static readonly ParquetOptions Options = new() { MaximumSmallPoolFreeBytes = 16 << 20, MaximumLargePoolFreeBytes = 64 << 20 };

    public static bool IsParquet(string path) => path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every row's document, named <c>path:row</c> (rows counted from 1, as .jsonl lines are).</summary>
    /// <param name="bytesRead">Told, after each row group, the bytes of the file read so far, as a share of its rows.</param>
    /// <param name="option">The option that names the column, for errors.</param>
    public static IEnumerable<(string Name, string Content)> Read(string path, string column, Action<long>? bytesRead = null, string option = "--text-field")
    {
        using var file = Open(path);
        var reader = Call(path, () => ParquetReader.CreateAsync(file, Options, leaveStreamOpen: true));
        try
        {
            // The schema is decoded when first asked for, and a damaged one fails there.
            var (schema, rows, groups) = Call(path, () => Task.FromResult((reader.Schema, reader.Metadata?.NumRows ?? 0, reader.RowGroupCount)));
            var (field, bytesField) = Column(path, schema, column, option);
            long row = 0;
            if (rows == 0)
            {
                throw new InvalidFileException(path, "holds no documents (it has no rows).");
            }

            for (int group = 0; group < groups; group++)
            {
                ReadOnlyMemory<byte>[] values;
                int[] levels;
                using (var rowGroup = Call(path, () => Task.FromResult(reader.OpenRowGroupReader(group))))
                {
                    if (rowGroup.RowCount > Array.MaxLength)
                    {
                        throw new InvalidFileException(path, $"row group {group} has {rowGroup.RowCount} rows, more than one read can hold.");
                    }

                    // A damaged file may say its column holds fewer values than the group has rows: the rows after them would read as empty documents.
                    long held = Call(path, () => Task.FromResult(rowGroup.GetMetadata(bytesField)?.MetaData?.NumValues ?? -1));
                    if (held != rowGroup.RowCount)
                    {
                        throw new InvalidFileException(path, $"row group {group}: column \"{field.Name}\" holds {held} values for {rowGroup.RowCount} rows.");
                    }

                    // The values that are not null, in order, and a definition level per row that says which rows those are.
                    values = new ReadOnlyMemory<byte>[rowGroup.RowCount];
                    // (Parquet.Net asks for the levels' room even where a column cannot hold a null and has none.)
                    levels = new int[rowGroup.RowCount];
                    Call(path, async () => { await rowGroup.ReadRawAsync(bytesField, values.AsMemory(), levels.AsMemory(), null).ConfigureAwait(false); return 0; });
                }

                for (int i = 0, value = 0; i < values.Length; i++)
                {
                    row++;
                    if (levels[i] < bytesField.MaxDefinitionLevel)
                    {
                        throw new InvalidFileException(path, $"row {row}: \"{field.Name}\" is null, not a document.");
                    }

                    string text;
                    try
                    {
                        text = Utf8.GetString(values[value].Span);
                    }
                    catch (DecoderFallbackException e)
                    {
                        throw new InvalidFileException(path, $"row {row}: \"{field.Name}\" is not UTF-8 text ({e.Message})");
                    }

                    values[value++] = default;
                    if (i == values.Length - 1)
                    {
                        bytesRead?.Invoke((long)(file.Length * ((double)row / rows)));
                    }

                    yield return ($"{path}:{row}", text);
                }
            }

            if (row != rows)
            {
                throw new InvalidFileException(path, $"says it holds {rows} rows, but its row groups hold {row}.");
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>A column of a Parquet file, for <c>inspect</c>: its name, type, whether it may hold nulls, and whether <c>--text-field</c> reads it.</summary>
    internal sealed record ColumnInfo(string Name, string Type, bool Nullable, bool Text);

    /// <summary>What a Parquet file holds, for <c>inspect</c>, without reading its rows.</summary>
    internal static (long Rows, int RowGroups, string? CreatedBy, IReadOnlyList<ColumnInfo> Columns) Describe(string path)
    {
        using var file = Open(path);
        var reader = Call(path, () => ParquetReader.CreateAsync(file, Options, leaveStreamOpen: true));
        try
        {
            return Call(path, () => Task.FromResult<(long, int, string?, IReadOnlyList<ColumnInfo>)>((reader.Metadata?.NumRows ?? 0, reader.RowGroupCount, reader.Metadata?.CreatedBy,
                [.. reader.Schema.Fields.Select(f => f is DataField data
                    ? new ColumnInfo(f.Name, (data.IsArray ? "list of " : "") + TypeName(data), data.IsNullable, !data.IsArray && IsString(data))
                    : new ColumnInfo(f.Name, f.SchemaType.ToString().ToLowerInvariant(), true, false))])));
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static string TypeName(DataField field) =>
        IsString(field) ? "string"
        : field.ClrType == typeof(ReadOnlyMemory<byte>) || field.ClrType == typeof(byte[]) ? "bytes"
        : field.ClrType.Name.ToLowerInvariant();

    /// <summary>The top-level string column named <paramref name="column"/>, and a field that reads its values as bytes.</summary>
    private static (DataField Field, DataField Bytes) Column(string path, ParquetSchema schema, string column, string option)
    {
        var field = schema.Fields.FirstOrDefault(f => f.Name == column);
        var strings = schema.Fields.OfType<DataField>().Where(IsString).Select(f => $"\"{f.Name}\"").ToList();
        string others = strings.Count == 0 ? "it has no string column" : $"its string columns: {string.Join(", ", strings)}";
        if (field is null)
        {
            throw new InvalidFileException(path, $"has no column \"{column}\" ({others}; {option} names {(option == "--text-field" ? "the document's" : "it")}).");
        }

        if (field is not DataField data || data.IsArray)
        {
            throw new InvalidFileException(path, $"column \"{column}\" is a {field.SchemaType.ToString().ToLowerInvariant()} of values, not one string per row ({others}).");
        }

        if (!IsString(data))
        {
            string holds = TypeName(data) is "bytes" ? "bytes without a string annotation" : TypeName(data);
            throw new InvalidFileException(path, $"column \"{column}\" holds {holds}, not strings ({others}).");
        }

        // The same column read as bytes: a field of the same name and nullability, its levels set by a schema of its own.
        var bytes = new DataField(data.Name, typeof(ReadOnlyMemory<byte>), data.IsNullable);
        _ = new ParquetSchema(bytes);
        return (data, bytes);
    }

    private static bool IsString(DataField field) => field.ClrType == typeof(ReadOnlyMemory<char>) || field.ClrType == typeof(string);

    private static FileStream Open(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidFileException(path, "is a folder, not a Parquet file.");
        }

        try
        {
            return new FileStream(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidFileException(path, "no such text file.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, $"cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Runs a Parquet.Net call, naming the file in what fails. The file was opened here, so what fails there is its
    /// content: a file that is not Parquet or is damaged fails in many ways (IOException among them: "only 4 out of 8 bytes").
    /// </summary>
    private static T Call<T>(string path, Func<Task<T>> call)
    {
        try
        {
            return call().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (OutOfMemoryException or InvalidFileException))
        {
            throw new InvalidFileException(path, $"is not a Parquet file, or is damaged or cut short ({e.GetType().Name}: {e.Message})");
        }
    }
}
