using System.IO.MemoryMappedFiles;
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

        using var mapped = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = mapped.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new Mapped(path, view).Read(info, ids, bytes, words, starts, edges, names, documents, prefixToken, lmEvalWords);
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

    /// <summary>The file's bytes, mapped, read as spans.</summary>
    private sealed unsafe class Mapped(string path, MemoryMappedViewAccessor view)
    {
        public TokenizedCorpus Read(TokenizedCorpusInfo info, TensorInfo ids, TensorInfo? bytes, TensorInfo? words, TensorInfo starts, TensorInfo edges, TensorInfo names, int documents, int? prefixToken, bool lmEvalWords)
        {
            byte* file = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref file);
            try
            {
                file += view.PointerOffset;
                int n = (int)ids.Shape[0];
                var sourceIds = new ReadOnlySpan<int>(file + ids.DataOffset, n);
                var documentStarts = new ReadOnlySpan<long>(file + starts.DataOffset, documents);
                for (int d = 0; d < documents; d++)
                {
                    long end = d + 1 < documents ? documentStarts[d + 1] : n;
                    if ((d == 0 ? documentStarts[0] != 0 : documentStarts[d] < 0) || end <= documentStarts[d] || end > n)
                    {
                        throw new InvalidFileException(path, $"'document_starts' puts document {d} at [{documentStarts[d]}, {end}) of {n} tokens: they must begin at 0 and rise, each document 1 token or more.");
                    }
                }

                var edgeFlags = new ReadOnlySpan<byte>(file + edges.DataOffset, documents);
                if (edgeFlags.IndexOfAnyExceptInRange((byte)0, (byte)3) is >= 0 and var badEdge)
                {
                    throw new InvalidFileException(path, $"'document_edges' of document {badEdge} is {edgeFlags[badEdge]}; it is 0 to 3.");
                }

                string[] documentNames = Names(new ReadOnlySpan<byte>(file + names.DataOffset, checked((int)names.Shape[0])), documents);
                int prefixed = 0;
                for (int d = 0; d < documents; d++)
                {
                    prefixed += prefixToken is { } p && sourceIds[(int)documentStarts[d]] != p ? 1 : 0;
                }

                long total = (long)n + prefixed;
                if (total > Array.MaxLength)
                {
                    throw new InvalidFileException(path, $"holds {n} tokens, {total} with a prefix token before each document; at most {Array.MaxLength} can be held.");
                }

                var outIds = new int[total];
                var outBytes = bytes is null ? null : new int[total];
                var outWords = words is null ? null : new int[total];
                var outStarts = new long[documents];
                int at = 0;
                for (int d = 0; d < documents; d++)
                {
                    int from = (int)documentStarts[d], length = (d + 1 < documents ? (int)documentStarts[d + 1] : n) - from;
                    outStarts[d] = at;
                    if (prefixToken is { } p && sourceIds[from] != p)
                    {
                        outIds[at++] = p;
                    }

                    Copy("ids", sourceIds.Slice(from, length), outIds.AsSpan(at), d, documentNames);
                    if (bytes is not null)
                    {
                        Copy("bytes", new ReadOnlySpan<int>(file + bytes.DataOffset, n).Slice(from, length), outBytes.AsSpan(at), d, documentNames);
                    }

                    if (words is not null)
                    {
                        var documentWords = outWords.AsSpan(at, length);
                        Copy("words", new ReadOnlySpan<int>(file + words.DataOffset, n).Slice(from, length), documentWords, d, documentNames);
                        if (lmEvalWords && length - info.AddedAfter > info.AddedBefore)
                        {
                            // The text's own tokens: those the tokenizer added before and after it are not where its white space is.
                            TokenizedCorpusWriter.AddWordEdges(documentWords[info.AddedBefore..(length - info.AddedAfter)], edgeFlags[d]);
                        }
                    }

                    at += length;
                }

                var text = new TokenizedText(outIds, outBytes, outWords, path, info.Tokenizer) { DocumentStarts = outStarts, PrefixToken = prefixToken };
                return new TokenizedCorpus(text, documentNames, info);
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }

        /// <summary>Copies a document's counts, refusing a negative one (the file is damaged: a count is 0 or more, an id a vocabulary index).</summary>
        private void Copy(string tensor, ReadOnlySpan<int> source, Span<int> destination, int document, string[] names)
        {
            if (source.IndexOfAnyInRange(int.MinValue, -1) is >= 0 and var negative)
            {
                throw new InvalidFileException(path, $"'{tensor}' holds {source[negative]} at token {negative} of document {document} ({names[document]}); it holds 0 or more.");
            }

            source.CopyTo(destination);
        }

        private string[] Names(ReadOnlySpan<byte> utf8, int documents)
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
