using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// <c>--per-document OUT.jsonl</c>: a model run's per-token values (the <c>--per-token-measure</c>)
/// summed over each document of the text, one JSON line per document: <c>document</c> (its index),
/// <c>name</c>, <c>first_row</c>, <c>tokens</c> (its scored tokens in this run or shard), the sum and
/// mean of the measure, and for the loss the document's perplexity, and its bits per byte and word
/// perplexity where the tokenizer counts bytes and words (lm-evaluation-harness's per-document
/// figures with <c>--protocol rolling</c>; null where the tokenizer counted none, with ids). A whole
/// run writes every document, those with no scored token too; a shard writes the documents its rows
/// reach, their sums over those rows, so a document's lines over the shards add up to the whole run's.
/// </summary>
internal sealed class PerDocumentWriter
{
    private readonly string _path;
    private readonly string _measure;
    private readonly ModelWindows _windows;
    private readonly ModelText _text;
    private readonly long _firstRow;
    private readonly long _rows;
    private readonly double[] _sums;

    private PerDocumentWriter(string path, string measure, ModelRowSource source, ModelText text, long firstRow, long rows)
    {
        OutputFile.Check(path);
        _path = path;
        _measure = measure;
        _windows = source.Windows;
        _text = text;
        _firstRow = firstRow;
        _rows = rows;
        _sums = new double[_windows.Documents];
    }

    public static Option<string?> Option() => new("--per-document")
    {
        Description = "Write the per-token measure (--per-token-measure) summed over each document, one JSON line per document (.jsonl): its index, name, first row, scored tokens, sum and mean, and for the loss its perplexity, bits per byte and word perplexity.",
    };

    /// <summary>Checks the path before any model is loaded: writable, and not the --per-token file.</summary>
    public static void Check(ParseResult parse, Option<string?> option, Option<string?> perToken)
    {
        if (parse.GetValue(option) is not { } path)
        {
            return;
        }

        OutputFile.Check(path);
        if (parse.GetValue(perToken) is { } tokens && Path.GetFullPath(tokens) == Path.GetFullPath(path))
        {
            throw CliException.Usage($"--per-document and --per-token both name {path}: give each its own file.");
        }
    }

    /// <summary>A writer for the rows of <paramref name="shard"/>, or null without the option.</summary>
    public static PerDocumentWriter? Create(ParseResult parse, Option<string?> option, string measure, ModelRowSource source, ModelText text, Shard shard)
    {
        if (parse.GetValue(option) is not { } path)
        {
            return null;
        }

        var (first, count) = shard.Range(source.Rows);
        return new PerDocumentWriter(path, measure, source, text, first, count);
    }

    /// <summary>A handler that adds each chunk's values to their documents' sums, then passes them on to <paramref name="next"/>.</summary>
    public RowValuesHandler Chain(RowValuesHandler? next) => (firstRow, values) =>
    {
        int document = _windows.DocumentOfRow(firstRow);
        long end = _windows.DocumentFirstRow(document) + _windows.DocumentRows(document);
        for (int i = 0; i < values.Length; i++)
        {
            while (firstRow + i >= end)
            {
                document++;
                end = _windows.DocumentFirstRow(document) + _windows.DocumentRows(document);
            }

            _sums[document] += values[i];
        }

        next?.Invoke(firstRow, values);
    };

    /// <summary>Writes one line per document the run's rows reach (every document for a whole run).</summary>
    public void Write()
    {
        bool whole = _firstRow == 0 && _rows == _windows.Rows;
        var lines = new List<JsonObject>();
        for (int d = 0; d < _windows.Documents; d++)
        {
            long first = _windows.DocumentFirstRow(d), last = first + _windows.DocumentRows(d);
            long from = Math.Max(first, _firstRow), to = Math.Min(last, _firstRow + _rows);
            if (!whole && to <= from)
            {
                continue;
            }

            long tokens = Math.Max(0, to - from);
            var line = new JsonObject
            {
                ["document"] = d,
                ["name"] = d < _text.DocumentNames.Count ? _text.DocumentNames[d] : null,
                ["first_row"] = from,
                ["tokens"] = tokens,
                [$"{_measure}_sum"] = Json.Number(_sums[d]),
                [$"mean_{_measure}"] = tokens > 0 ? Json.Number(_sums[d] / tokens) : null,
            };
            if (_measure == "loss")
            {
                var (bytes, words) = Counts(from, to);
                line["perplexity"] = tokens > 0 ? Json.Number(Math.Exp(_sums[d] / tokens)) : null;
                line["bytes"] = bytes;
                line["words"] = words;
                line["bits_per_byte"] = bytes is > 0 ? Json.Number(_sums[d] / bytes.Value / Math.Log(2)) : null;
                line["word_perplexity"] = words is > 0 ? Json.Number(Math.Exp(_sums[d] / words.Value)) : null;
            }

            lines.Add(line); // an overflowing perplexity or an infinite KL as null, as in the report
        }

        PerDocumentLines.Write(_path, lines);
    }

    /// <summary>The bytes and words of the scored tokens of rows [from, to), where the tokenizer counted them.</summary>
    private (long? Bytes, long? Words) Counts(long from, long to)
    {
        var (b, w) = (_text.Tokens.Bytes, _text.Tokens.Words);
        long bytes = 0, words = 0;
        for (long r = from; r < to && (b ?? w) is not null; r++)
        {
            long token = _windows.TokenOfRow(r);
            bytes += b?[token] ?? 0;
            words += w?[token] ?? 0;
        }

        return (b is null ? null : bytes, w is null ? null : words);
    }
}
