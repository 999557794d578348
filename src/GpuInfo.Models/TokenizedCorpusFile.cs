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
        if (prefixToken < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixToken), prefixToken, "a prefix token is a vocabulary index, 0 or more.");
        }

        var (tensors, metadata) = SafetensorsFormat.ReadWithMetadata(path);
        if (!metadata.TryGetValue("format", out var format) || format != Format)
        {
            throw new InvalidFileException(path, $"is not a tokenized corpus (its __metadata__ has no format '{Format}': gpuinfo tokenize --out writes one).");
        }

        var info = TokenizedCorpusInfo.FromMetadata(path, metadata);
        if (tensors.FirstOrDefault(t => !TensorNames.Contains(t.Name)) is { } other)
        {
            throw new InvalidFileException(path, $"holds a tensor '{other.Name}', which a tokenized corpus has not.");
        }

        var ids = Tensor(path, tensors, "ids", "I32", null) ?? throw new InvalidFileException(path, "has no tensor 'ids'.");
        long n = ids.Shape[0];
        if (n < 1 || n > Array.MaxLength)
        {
            throw new InvalidFileException(path, $"holds {n} tokens; a tokenized corpus holds 1 to {Array.MaxLength}.");
        }

        var bytes = Tensor(path, tensors, "bytes", "I32", n);
        var words = Tensor(path, tensors, "words", "I32", n);
        var starts = Tensor(path, tensors, "document_starts", "I64", null) ?? throw new InvalidFileException(path, "has no tensor 'document_starts'.");
        int documents = starts.Shape[0] is >= 1 and <= int.MaxValue ? (int)starts.Shape[0] : throw new InvalidFileException(path, $"'document_starts' holds {starts.Shape[0]} documents; a corpus holds 1 or more.");
        var edges = Tensor(path, tensors, "document_edges", "U8", documents) ?? throw new InvalidFileException(path, "has no tensor 'document_edges'.");
        var names = Tensor(path, tensors, "document_names", "U8", null) ?? throw new InvalidFileException(path, "has no tensor 'document_names'.");

        using var file = GpuInfo.Formats.FileAccess.OpenRead(path);
        return new Reader(path, file, documents, (int)n).Read(info, ids, bytes, words, starts, edges, names, prefixToken, lmEvalWords);
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
    /// Reads the file's tensors a block at a time (positional reads, 4 MiB), each token's values put where the
    /// prefix tokens before its document move it: the arrays are of the text's length, and nothing else of its size is held.
    /// </summary>
    private sealed class Reader(string path, FileStream file, int documents, int tokens)
    {
        private const int BlockValues = 1 << 20;
        private readonly byte[] _block = new byte[BlockValues * sizeof(int)];
        private long[] _starts = [];
        private string[] _names = [];

        public TokenizedCorpus Read(TokenizedCorpusInfo info, TensorInfo ids, TensorInfo? bytes, TensorInfo? words, TensorInfo starts, TensorInfo edges, TensorInfo names, int? prefixToken, bool lmEvalWords)
        {
            _starts = new long[documents];
            GpuInfo.Formats.FileAccess.ReadExactly(file, MemoryMarshal.AsBytes(_starts.AsSpan()), starts.DataOffset, path);
            for (int d = 0; d < documents; d++)
            {
                long end = End(d);
                if ((d == 0 ? _starts[0] != 0 : _starts[d] < 0) || end <= _starts[d] || end > tokens)
                {
                    throw new InvalidFileException(path, $"'document_starts' puts document {d} at [{_starts[d]}, {end}) of {tokens} tokens: they must begin at 0 and rise, each document 1 token or more.");
                }
            }

            var edgeFlags = new byte[documents];
            GpuInfo.Formats.FileAccess.ReadExactly(file, edgeFlags, edges.DataOffset, path);
            if (edgeFlags.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)3) is >= 0 and var badEdge)
            {
                throw new InvalidFileException(path, $"'document_edges' of document {badEdge} is {edgeFlags[badEdge]}; it is 0 to 3.");
            }

            var nameBytes = new byte[checked((int)names.Shape[0])];
            GpuInfo.Formats.FileAccess.ReadExactly(file, nameBytes, names.DataOffset, path);
            _names = Names(nameBytes);

            // Where each document goes: after the prefix tokens put before it and before each earlier document.
            var outStarts = new long[documents];
            var prefixed = new bool[documents];
            if (prefixToken is { } prefix)
            {
                Span<byte> first = stackalloc byte[sizeof(int)];
                for (int d = 0; d < documents; d++)
                {
                    GpuInfo.Formats.FileAccess.ReadExactly(file, first, ids.DataOffset + _starts[d] * sizeof(int), path);
                    prefixed[d] = BitConverter.ToInt32(first) != prefix;
                }
            }

            long shift = 0;
            for (int d = 0; d < documents; d++)
            {
                outStarts[d] = _starts[d] + shift;
                shift += prefixed[d] ? 1 : 0;
            }

            long total = tokens + shift;
            if (total > Array.MaxLength)
            {
                throw new InvalidFileException(path, $"holds {tokens} tokens, {total} with a prefix token before each document; at most {Array.MaxLength} can be held.");
            }

            var outIds = Scatter(ids, total, outStarts, prefixed);
            for (int d = 0; d < documents; d++)
            {
                if (prefixed[d])
                {
                    outIds[outStarts[d]] = prefixToken!.Value;
                }
            }

            var outBytes = bytes is null ? null : Scatter(bytes, total, outStarts, prefixed);
            var outWords = words is null ? null : Scatter(words, total, outStarts, prefixed);
            for (int d = 0; lmEvalWords && outWords is not null && d < documents; d++)
            {
                // The text's own tokens: those the tokenizer added before and after it are not where its white space is.
                long first = outStarts[d] + (prefixed[d] ? 1 : 0) + info.AddedBefore, end = outStarts[d] + (prefixed[d] ? 1 : 0) + End(d) - _starts[d] - info.AddedAfter;
                if (end > first)
                {
                    TokenizedCorpusWriter.AddWordEdges(outWords.AsSpan((int)first, (int)(end - first)), edgeFlags[d]);
                }
            }

            var text = new TokenizedText(outIds, outBytes, outWords, path, info.Tokenizer) { DocumentStarts = outStarts, PrefixToken = prefixToken };
            return new TokenizedCorpus(text, _names, info);
        }

        private long End(int document) => document + 1 < documents ? _starts[document + 1] : tokens;

        /// <summary>A tensor of a value per token read into an array of <paramref name="total"/>, each document's values at its place; a negative value is refused (an id is a vocabulary index, a count 0 or more).</summary>
        private int[] Scatter(TensorInfo tensor, long total, long[] outStarts, bool[] prefixed)
        {
            var values = new int[total];
            int d = 0;
            for (long at = 0; at < tokens; at += BlockValues)
            {
                int count = (int)Math.Min(BlockValues, tokens - at);
                GpuInfo.Formats.FileAccess.ReadExactly(file, _block.AsSpan(0, count * sizeof(int)), tensor.DataOffset + at * sizeof(int), path);
                var block = MemoryMarshal.Cast<byte, int>(_block.AsSpan(0, count * sizeof(int)));
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
                        throw new InvalidFileException(path, $"'{tensor.Name}' holds {part[negative]} at token {from - _starts[d] + negative} of document {d} ({_names[d]}); it holds 0 or more.");
                    }

                    part.CopyTo(values.AsSpan((int)(outStarts[d] + (prefixed[d] ? 1 : 0) + from - _starts[d])));
                    from += length;
                }
            }

            return values;
        }

        private string[] Names(byte[] utf8)
        {
            string all;
            try
            {
                all = new UTF8Encoding(false, true).GetString(utf8);
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidFileException(path, "'document_names' is not UTF-8.");
            }

            var names = all.Split('\0');
            return names.Length == documents ? names
                : throw new InvalidFileException(path, $"'document_names' holds {names.Length} names for {documents} documents.");
        }
    }
}

/// <summary>A <see cref="TokenizedCorpusFile"/> read: its documents as one text, their names, and the tokenizer's account.</summary>
public sealed record TokenizedCorpus(TokenizedText Text, IReadOnlyList<string> DocumentNames, TokenizedCorpusInfo Info);
