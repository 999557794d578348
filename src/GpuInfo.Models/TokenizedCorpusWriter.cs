using System.Runtime.InteropServices;
using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// Writes a <see cref="TokenizedCorpusFile"/> a document at a time, so that a corpus of any size is
/// kept in the memory of one document: the ids go straight into the file, after room kept for its
/// header; the byte and word counts and the names into hidden files beside it, appended at the end.
/// The file appears whole at <see cref="Commit"/> or not at all.
/// </summary>
public sealed class TokenizedCorpusWriter : IDisposable
{
    /// <summary>Room kept for the header, which is written last: its tensors' sizes are known only then.</summary>
    internal const int HeaderRoom = 64 << 10;

    private readonly AtomicFile.Pending _file;
    private readonly FileStream _bytes, _words, _names;
    private readonly TokenizedCorpusInfo _info;
    private readonly List<long> _starts = [];
    private readonly List<byte> _edges = [];
    private readonly string _path;
    private bool _countsBytes = true, _countsWords = true, _done;
    private long _tokens;

    /// <exception cref="IOException">The file cannot be made, or the path is a pipe or device (the header is written last, at the file's start).</exception>
    public TokenizedCorpusWriter(string path, TokenizedCorpusInfo info)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(info);
        if (FileKind.IsSpecial(path))
        {
            throw new IOException($"{path} is a pipe or device, not a file: a tokenized corpus's header is written last, at its start.");
        }

        _path = path;
        _info = info;
        _file = AtomicFile.Open(path, 1 << 20);
        try
        {
            _file.Run(() => _file.Stream.Write(new byte[HeaderRoom]));
            string beside = Path.Combine(Path.GetDirectoryName(FileKind.Resolved(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}");
            _bytes = Scratch(beside + ".bytes.tmp");
            _words = Scratch(beside + ".words.tmp");
            _names = Scratch(beside + ".names.tmp");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Documents written so far.</summary>
    public int Documents => _starts.Count;

    /// <summary>Tokens written so far.</summary>
    public long Tokens => _tokens;

    /// <summary>
    /// Appends a document as <see cref="TextTokenizer.Encode"/> gave it: its ids, with its bytes and words where the
    /// tokenizer counted them (where one document has none, the file keeps none), its name and its <see cref="TokenizedText.WordEdges"/>.
    /// </summary>
    /// <param name="document">One document's tokens (<see cref="TokenizedText.DocumentStarts"/> [0], no prefix token).</param>
    /// <exception cref="InvalidFileException">A document of no tokens (it could not be scored), or one past the most tokens a corpus holds.</exception>
    public void Add(TokenizedText document)
    {
        ArgumentNullException.ThrowIfNull(document);
        ObjectDisposedException.ThrowIf(_done, this);
        string name = document.Name;
        if (document.DocumentStarts.Count != 1 || document.PrefixToken is not null)
        {
            throw new ArgumentException($"{name} holds {document.DocumentStarts.Count} documents{(document.PrefixToken is null ? "" : " joined with a prefix token")}; add them one at a time, as the tokenizer gave them.", nameof(document));
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"the document's name '{name}' holds a NUL, which parts the names in the file.", nameof(document));
        }

        if (document.Ids.Length == 0)
        {
            throw new InvalidFileException(name, "has 0 tokens: a document to score needs at least 1.");
        }

        if (_tokens + document.Ids.Length > Array.MaxLength)
        {
            throw new InvalidFileException(name, $"brings the corpus to {_tokens + document.Ids.Length} tokens; a tokenized corpus holds at most {Array.MaxLength} (one array's): split the text into several corpora.");
        }

        // The file keeps each token's own words; lm-evaluation-harness's edges are added as it is read, where asked.
        int[]? words = document.Words;
        int textEnd = document.Ids.Length - _info.AddedAfter;
        if (words is not null && document.WordsCountEdges && textEnd > _info.AddedBefore)
        {
            words = (int[])words.Clone();
            words[_info.AddedBefore] -= document.WordEdges & 1;
            words[textEnd - 1] -= document.WordEdges >> 1 & 1;
        }

        _file.Run(() =>
        {
            _file.Stream.Write(MemoryMarshal.AsBytes(document.Ids.AsSpan()));
            _countsBytes &= document.Bytes is not null;
            _countsWords &= words is not null;
            if (_countsBytes)
            {
                _bytes.Write(MemoryMarshal.AsBytes(document.Bytes.AsSpan()));
            }

            if (_countsWords)
            {
                _words.Write(MemoryMarshal.AsBytes(words.AsSpan()));
            }

            if (_starts.Count > 0)
            {
                _names.WriteByte(0);
            }

            _names.Write(Encoding.UTF8.GetBytes(name));
        });
        _starts.Add(_tokens);
        _edges.Add(document.WordEdges);
        _tokens += document.Ids.Length;
    }

    /// <summary>Finishes the file: the counts and names after the ids, the header before them; then moves it to its path.</summary>
    /// <exception cref="InvalidOperationException">No document was added.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_starts.Count == 0)
        {
            throw new InvalidOperationException($"{_path}: no documents were added; a tokenized corpus holds 1 or more.");
        }

        var tensors = new List<(string Name, string DType, long[] Shape, long Bytes)> { ("ids", "I32", [_tokens], _tokens * 4) };
        var tails = new List<FileStream>();
        foreach (var (name, stream, kept) in new[] { ("bytes", _bytes, _countsBytes), ("words", _words, _countsWords) })
        {
            if (kept)
            {
                tensors.Add((name, "I32", [_tokens], _tokens * 4));
                tails.Add(stream);
            }
        }

        tensors.Add(("document_starts", "I64", [_starts.Count], _starts.Count * 8L));
        tensors.Add(("document_edges", "U8", [_edges.Count], _edges.Count));
        tensors.Add(("document_names", "U8", [_names.Length], _names.Length));
        var header = SafetensorsFormat.Header(tensors, _info.ToMetadata(_starts.Count, _tokens), HeaderRoom);
        if (header.Length != HeaderRoom)
        {
            throw new InvalidOperationException($"{_path}: the header takes {header.Length} bytes, more than the {HeaderRoom} kept for it (a tokenizer name of {_info.Tokenizer.Length} chars?).");
        }

        _file.Run(() =>
        {
            var stream = _file.Stream;
            foreach (var tail in tails)
            {
                tail.Position = 0;
                tail.CopyTo(stream, 1 << 20);
            }

            stream.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_starts)));
            stream.Write(CollectionsMarshal.AsSpan(_edges));
            _names.Position = 0;
            _names.CopyTo(stream, 1 << 20);
            stream.Position = 0;
            stream.Write(header);
        });
        _file.Commit();
        Dispose();
    }

    /// <summary>Deletes the hidden files, and the output too unless it was committed.</summary>
    public void Dispose()
    {
        _done = true;
        _bytes?.Dispose();
        _words?.Dispose();
        _names?.Dispose();
        _file?.Dispose();
    }

    private FileStream Scratch(string path)
    {
        FileStream? stream = null;
        _file.Run(() => stream = new FileStream(path, FileMode.CreateNew, System.IO.FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose));
        return stream!;
    }
}
