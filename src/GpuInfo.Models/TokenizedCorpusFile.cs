using System.Runtime.InteropServices;
using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A corpus tokenized once, kept as a <c>.safetensors</c> file (<c>gpuinfo tokenize --out F.safetensors</c>,
/// <see cref="TokenizedCorpusWriter"/>), so that each shard of a run, and each later run, reads its ids
/// instead of tokenizing the text again, and still counts its bytes and words. It holds, as any
/// safetensors reader sees them:
/// <list type="bullet">
/// <item><c>ids</c> (I32 [N]): every document's tokens end to end, the tokens the tokenizer adds included;</item>
/// <item><c>bytes</c>, <c>words</c> (I32 [N]): the UTF-8 bytes of text each token stands for and the words
/// it begins (<see cref="TokenizedText"/>), where the tokenizer counts them;</item>
/// <item><c>document_starts</c> (I64 [D]): where each document begins in <c>ids</c>;</item>
/// <item><c>document_edges</c> (U8 [D]): 1 where a document's text begins with white space, 2 where it ends
/// with it (both: 3), for lm-evaluation-harness's word count;</item>
/// <item><c>document_names</c> (U8): each document's name (its file, or file:line), UTF-8, NUL between;</item>
/// <item><c>__metadata__</c>: <c>format</c> (<see cref="Format"/>), <c>version</c>, and the tokenizer's
/// <see cref="TokenizedCorpusInfo"/>.</item>
/// </list>
/// </summary>
public static class TokenizedCorpusFile
{
    /// <summary>The <c>format</c> of the file's <c>__metadata__</c>.</summary>
    public const string Format = "gpuinfo.tokenized_corpus";

    private static readonly string[] TensorNames = ["ids", "bytes", "words", "document_starts", "document_edges", "document_names"];

    /// <summary>The tokenizer's account in the file, or null where <paramref name="path"/> is not a tokenized corpus (not .safetensors, or another kind).</summary>
    /// <exception cref="InvalidFileException">A .safetensors file that cannot be read.</exception>
    public static TokenizedCorpusInfo? TryReadInfo(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || Directory.Exists(path))
        {
            return null;
        }

        var (_, metadata) = SafetensorsFormat.ReadWithMetadata(path);
        return metadata.TryGetValue("format", out var format) && format == Format ? TokenizedCorpusInfo.FromMetadata(path, metadata) : null;
    }

    /// <summary>
    /// The corpus as one text of its documents (as <see cref="TokenizedText.Join"/> gives them), with
    /// <paramref name="prefixToken"/> before each document that does not begin with it, read straight into
    /// arrays of the text's length: a shard reads its corpus in the memory of the text once.
    /// </summary>
    /// <param name="lmEvalWords">Count words as lm-evaluation-harness does (<see cref="TextTokenizer.Encode"/>): a document's white space at its start and at its end each count one.</param>
    /// <exception cref="InvalidFileException">Not a tokenized corpus, damaged, or more tokens than one array holds.</exception>
    public static TokenizedCorpus Read(string path, int? prefixToken = null, bool lmEvalWords = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read([path], prefixToken, lmEvalWords);
    }

    /// <summary>
    /// Several corpora (the files of a corpus tokenized a part at a time) as one text: each file's documents in
    /// order, read straight into arrays of the whole text's length, as <see cref="Read(string, int?, bool)"/> reads one.
    /// Byte and word counts are kept where every file has them.
    /// </summary>
    /// <exception cref="ArgumentException">No files, or files of two tokenizers.</exception>
    /// <exception cref="InvalidFileException">A file that is not a tokenized corpus, damaged, or more tokens than one array holds.</exception>
    public static TokenizedCorpus Read(IReadOnlyList<string> paths, int? prefixToken = null, bool lmEvalWords = false) =>
        Read(paths, prefixToken, lmEvalWords, Part.DefaultBlockValues);

    /// <param name="blockValues">Values read at a time (the tests make it small, so that documents cross blocks).</param>
    internal static TokenizedCorpus Read(IReadOnlyList<string> paths, int? prefixToken, bool lmEvalWords, int blockValues)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
        {
            throw new ArgumentException("no files.", nameof(paths));
        }

        if (prefixToken < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixToken), prefixToken, "a prefix token is a vocabulary index, 0 or more.");
        }

        var parts = new List<Part>();
        try
        {
            foreach (string path in paths)
            {
                parts.Add(new Part(path ?? throw new ArgumentException("a path is null.", nameof(paths)), prefixToken, blockValues));
                if (parts[^1].Info.Tokenizer != parts[0].Info.Tokenizer)
                {
                    throw new ArgumentException($"{paths[0]} was tokenized by {parts[0].Info.Tokenizer}, {path} by {parts[^1].Info.Tokenizer}: one text is one tokenizer's ids.", nameof(paths));
                }
            }

            long total = parts.Sum(p => p.Length);
            if (total > Array.MaxLength)
            {
                throw new InvalidFileException(paths[0], $"{(paths.Count > 1 ? $"and the {paths.Count - 1} files after it hold" : "holds")} {total} tokens with the prefix tokens; at most {Array.MaxLength} can be held.");
            }

            var ids = new int[total];
            var bytes = parts.All(p => p.Bytes is not null) ? new int[total] : null;
            var words = parts.All(p => p.Words is not null) ? new int[total] : null;
            var starts = new List<long>();
            var names = new List<string>();
            long at = 0;
            foreach (var part in parts)
            {
                starts.AddRange(part.Fill(ids, bytes, words, at, prefixToken, lmEvalWords));
                names.AddRange(part.Names);
                at += part.Length;
            }

            string name = paths.Count == 1 ? paths[0] : $"{paths[0]} (+{paths.Count - 1} more)";
            var text = new TokenizedText(ids, bytes, words, name, parts[0].Info.Tokenizer) { DocumentStarts = starts, PrefixToken = prefixToken };
            return new TokenizedCorpus(text, names, parts[0].Info);
        }
        finally
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }

    /// <summary>The tensor <paramref name="name"/>, checked to be a vector of <paramref name="dtype"/> and of <paramref name="length"/> (where given), or null where the file has none.</summary>
    private static TensorInfo? Tensor(string path, IReadOnlyList<TensorInfo> tensors, string name, string dtype, long? length)
    {
        var tensor = tensors.FirstOrDefault(t => t.Name == name);
        if (tensor is null)
        {
            return null;
        }

        string actual = tensor.Unsupported ?? tensor.DType.SafetensorsName();
        if (actual != dtype || tensor.Rank != 1 || (length is { } expected && tensor.Shape[0] != expected))
        {
            throw new InvalidFileException(path, $"'{name}' is {actual} {tensor.ShapeText}; a tokenized corpus holds it as {dtype} [{length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "N"}].");
        }

        return tensor;
    }

    /// <summary>
    /// One file: its header, documents, names and where a prefix token goes checked when opened; then its tensors
    /// read a block at a time (positional reads, 4 MiB) into the text's arrays, each token's values put where the
    /// prefix tokens before its document move it, so that the arrays are all that is held.
    /// </summary>
    private sealed class Part : IDisposable
    {
        internal const int DefaultBlockValues = 1 << 20;
        private readonly int _blockValues;
        private readonly string _path;
        private readonly FileStream _file;
        private readonly TensorInfo _ids;
        private readonly int _tokens;
        private long[] _starts = [];
        private readonly byte[] _edges;
        private readonly bool[] _prefixed;

        public Part(string path, int? prefixToken, int blockValues)
        {
            _path = path;
            _blockValues = blockValues;
            var (tensors, metadata) = SafetensorsFormat.ReadWithMetadata(path);
            if (!metadata.TryGetValue("format", out var format) || format != Format)
            {
                throw new InvalidFileException(path, $"is not a tokenized corpus (its __metadata__ has no format '{Format}': gpuinfo tokenize --out writes one).");
            }

            Info = TokenizedCorpusInfo.FromMetadata(path, metadata);
            if (tensors.FirstOrDefault(t => !TensorNames.Contains(t.Name)) is { } other)
            {
                throw new InvalidFileException(path, $"holds a tensor '{other.Name}', which a tokenized corpus has not.");
            }

            _ids = Tensor(path, tensors, "ids", "I32", null) ?? throw new InvalidFileException(path, "has no tensor 'ids'.");
            long n = _ids.Shape[0];
            _tokens = n is >= 1 and <= int.MaxValue ? (int)n : throw new InvalidFileException(path, $"holds {n} tokens; a tokenized corpus holds 1 to {Array.MaxLength}.");
            Bytes = Tensor(path, tensors, "bytes", "I32", n);
            Words = Tensor(path, tensors, "words", "I32", n);
            var starts = Tensor(path, tensors, "document_starts", "I64", null) ?? throw new InvalidFileException(path, "has no tensor 'document_starts'.");
            int documents = starts.Shape[0] is >= 1 and <= int.MaxValue ? (int)starts.Shape[0] : throw new InvalidFileException(path, $"'document_starts' holds {starts.Shape[0]} documents; a corpus holds 1 or more.");
            var edges = Tensor(path, tensors, "document_edges", "U8", documents) ?? throw new InvalidFileException(path, "has no tensor 'document_edges'.");
            var names = Tensor(path, tensors, "document_names", "U8", null) ?? throw new InvalidFileException(path, "has no tensor 'document_names'.");

            _file = GpuInfo.Formats.FileAccess.OpenRead(path);
            try
            {
                (_starts, _edges, Names, _prefixed, Length) = Plan(starts, edges, names, documents, prefixToken);
            }
            catch
            {
                _file.Dispose();
                throw;
            }
        }

        public TokenizedCorpusInfo Info { get; }

        public TensorInfo? Bytes { get; }

        public TensorInfo? Words { get; }

        public string[] Names { get; }

        /// <summary>Its tokens in the text, with the prefix tokens put before its documents.</summary>
        public long Length { get; }

        /// <summary>Where its documents start, their white-space edges and names, and which get a prefix token (checked: a damaged file is refused here, before any array of the text's size is made).</summary>
        private (long[] Starts, byte[] Edges, string[] Names, bool[] Prefixed, long Length) Plan(TensorInfo starts, TensorInfo edges, TensorInfo names, int documents, int? prefixToken)
        {
            _starts = new long[documents];
            ReadExactly(MemoryMarshal.AsBytes(_starts.AsSpan()), starts.DataOffset);
            for (int d = 0; d < documents; d++)
            {
                long end = End(d);
                if ((d == 0 ? _starts[0] != 0 : _starts[d] < 0) || end <= _starts[d] || end > _tokens)
                {
                    throw new InvalidFileException(_path, $"'document_starts' puts document {d} at [{_starts[d]}, {end}) of {_tokens} tokens: they must begin at 0 and rise, each document 1 token or more.");
                }
            }

            var edgeFlags = new byte[documents];
            ReadExactly(edgeFlags, edges.DataOffset);
            if (edgeFlags.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)3) is >= 0 and var badEdge)
            {
                throw new InvalidFileException(_path, $"'document_edges' of document {badEdge} is {edgeFlags[badEdge]}; it is 0 to 3.");
            }

            var nameBytes = new byte[checked((int)names.Shape[0])];
            ReadExactly(nameBytes, names.DataOffset);
            var documentNames = ReadNames(nameBytes, documents);

            // A document that begins with the prefix token (a tokenizer's own BOS) gets no second one.
            var prefixed = new bool[documents];
            long length = _tokens;
            if (prefixToken is { } prefix)
            {
                // Each document's first id: one read each where documents are few, else one pass over the ids (short documents: millions of reads otherwise).
                Span<byte> one = stackalloc byte[sizeof(int)];
                var raw = documents > _tokens / 1024 ? new byte[(int)Math.Min(_blockValues, _tokens) * sizeof(int)] : null;
                long blockStart = -1;
                for (int d = 0; d < documents; d++)
                {
                    int first;
                    if (raw is null)
                    {
                        ReadExactly(one, _ids.DataOffset + _starts[d] * sizeof(int));
                        first = BitConverter.ToInt32(one);
                    }
                    else
                    {
                        if (blockStart < 0 || _starts[d] >= blockStart + _blockValues)
                        {
                            blockStart = _starts[d];
                            int count = (int)Math.Min(_blockValues, _tokens - blockStart);
                            ReadExactly(raw.AsSpan(0, count * sizeof(int)), _ids.DataOffset + blockStart * sizeof(int));
                        }

                        first = BitConverter.ToInt32(raw, (int)(_starts[d] - blockStart) * sizeof(int));
                    }

                    prefixed[d] = first != prefix;
                    length += prefixed[d] ? 1 : 0;
                }
            }

            return (_starts, edgeFlags, documentNames, prefixed, length);
        }

        /// <summary>Reads its tensors into the text's arrays from <paramref name="offset"/> on; where its documents start there.</summary>
        public long[] Fill(int[] ids, int[]? bytes, int[]? words, long offset, int? prefixToken, bool lmEvalWords)
        {
            var outStarts = new long[_starts.Length];
            long shift = offset;
            for (int d = 0; d < _starts.Length; d++)
            {
                outStarts[d] = _starts[d] + shift;
                if (_prefixed[d])
                {
                    ids[outStarts[d]] = prefixToken!.Value;
                    shift++;
                }
            }

            Scatter(_ids, ids, outStarts);
            if (bytes is not null)
            {
                Scatter(Bytes!, bytes, outStarts);
            }

            if (words is not null)
            {
                Scatter(Words!, words, outStarts);
                for (int d = 0; lmEvalWords && d < _starts.Length; d++)
                {
                    // The text's own tokens: those the tokenizer added before and after it are not where its white space is.
                    long first = outStarts[d] + (_prefixed[d] ? 1 : 0) + Info.AddedBefore, end = outStarts[d] + (_prefixed[d] ? 1 : 0) + End(d) - _starts[d] - Info.AddedAfter;
                    if (end > first)
                    {
                        TokenBytes.AddWordEdges(words.AsSpan((int)first, (int)(end - first)), _edges[d]);
                    }
                }
            }

            return outStarts;
        }

        public void Dispose() => _file?.Dispose();

        private long End(int document) => document + 1 < _starts.Length ? _starts[document + 1] : _tokens;

        private void ReadExactly(Span<byte> buffer, long offset) => GpuInfo.Formats.FileAccess.ReadExactly(_file, buffer, offset, _path);

        /// <summary>A tensor of a value per token read into <paramref name="values"/>, each document's at its place; a negative value is refused (an id is a vocabulary index, a count 0 or more).</summary>
        private void Scatter(TensorInfo tensor, int[] values, long[] outStarts)
        {
            var raw = new byte[(int)Math.Min(_blockValues, _tokens) * sizeof(int)];
            int d = 0;
            for (long at = 0; at < _tokens; at += _blockValues)
            {
                int count = (int)Math.Min(_blockValues, _tokens - at);
                ReadExactly(raw.AsSpan(0, count * sizeof(int)), tensor.DataOffset + at * sizeof(int));
                var block = MemoryMarshal.Cast<byte, int>(raw.AsSpan(0, count * sizeof(int)));
                for (long from = at; from < at + count;)
                {
                    while (End(d) <= from)
                    {
                        d++;
                    }

                    int length = (int)(Math.Min(End(d), at + count) - from);
                    var part = block.Slice((int)(from - at), length);
                    if (part.IndexOfAnyInRange(int.MinValue, -1) is >= 0 and var negative)
                    {
                        throw new InvalidFileException(_path, $"'{tensor.Name}' holds {part[negative]} at token {from - _starts[d] + negative} of document {d} ({Names[d]}); it holds 0 or more.");
                    }

                    part.CopyTo(values.AsSpan((int)(outStarts[d] + (_prefixed[d] ? 1 : 0) + from - _starts[d])));
                    from += length;
                }
            }
        }

        private string[] ReadNames(byte[] utf8, int documents)
        {
            string all;
            try
            {
                all = new UTF8Encoding(false, true).GetString(utf8);
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidFileException(_path, "'document_names' is not UTF-8.");
            }

            var names = all.Split('\0');
            return names.Length == documents ? names
                : throw new InvalidFileException(_path, $"'document_names' holds {names.Length} names for {documents} documents.");
        }
    }
}

/// <summary>A <see cref="TokenizedCorpusFile"/> read: its documents as one text, their names, and the tokenizer's account.</summary>
public sealed record TokenizedCorpus(TokenizedText Text, IReadOnlyList<string> DocumentNames, TokenizedCorpusInfo Info);
