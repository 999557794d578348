using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo tokenize</c>: a text's ids as <c>perplexity --text</c> tokenizes it (the tokens the
/// tokenizer adds included), with what the tokenizer is and adds, its byte and word counts, and its
/// speed; <c>--out</c> writes the ids as an int32 <c>.npy</c> that <c>--tokens</c> reads, so that a
/// corpus is tokenized once, and its ids can be checked against another tokenizer's.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var text = FileListOption.Create("--text", $"The text (UTF-8) to tokenize. {ModelDocuments.FilesHelp} Several files are documents, each tokenized on its own.", required: true, join: false);
        var documentOptions = new TextDocumentOptions();
        var tokenizer = new Option<string>("--tokenizer") { Description = $"{string.Join("|", TokenizerCatalog.Names)} (built in), or a tokenizer.json, a vocab.json with merges.txt beside it, a SentencePiece .model, or a folder holding one.", Required = true };
        var output = new Option<string?>("--out") { Description = "Write what --tokens reads: a .safetensors tokenized corpus (every document's ids, bytes and words, names and the tokenizer's account, written as they come), or the one document's ids as an int32 .npy [N]." };
        var command = new Command("tokenize", "Token ids of a text as perplexity tokenizes it: what the tokenizer is and adds, tokens, bytes and words, speed; --out keeps them for --tokens, so a corpus is tokenized once.") { text, tokenizer, output, json };
        documentOptions.AddTo(command);
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(output);
            OutputFile.Check(path);
            bool corpus = path is not null && path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
            if (path is not null && !corpus && !path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw CliException.Usage($"--out {path}: give a .safetensors file (a tokenized corpus, every document) or a .npy file (one document's ids).");
            }

            var clock = Stopwatch.StartNew();
            var loaded = TokenizerCatalog.Load(parse.GetValue(tokenizer)!);
            double load = clock.Elapsed.TotalSeconds;
            string[] files = FileListOption.Get(parse, text)!;
            documentOptions.Check(parse, files);
            long chars = 0, bytes = 0, count = 0, tokens = 0;
            long? bytesCounted = 0, wordsCounted = 0;
            int[]? first = null;
            using var writer = corpus ? CreateWriter(path!, TokenizedCorpusInfo.Of(loaded) with { Detokenizer = parse.GetValue(documentOptions.Detokenize) }) : null;
            ProgressBar.RunBytes(!parse.GetValue(json), "tokenizing", files.Sum(ModelDocuments.Size), progress =>
            {
                int documents = 0;
                var texts = documentOptions.Read(parse, files, progress).Select(d =>
                {
                    if (path is not null && !corpus && ++documents > 1)
                    {
                        throw CliException.Usage($"--out writes one document's ids; {d.Name} is a second document (give one file, or --out a .safetensors tokenized corpus of every document).");
                    }

                    chars += d.Content.Length;
                    bytes += Encoding.UTF8.GetByteCount(d.Content);
                    return d;
                });
                clock.Restart();
                var encoder = new DocumentEncoder(loaded, () => TokenizerCatalog.Load(parse.GetValue(tokenizer)!));
                // Counted as they come: a corpus of any size is tokenized in the memory of a few batches.
                foreach (var document in encoder.Encode(texts, rewrite: documentOptions.Rewrite(parse)))
                {
                    first ??= document.Ids;
                    count++;
                    tokens += document.Ids.Length;
                    bytesCounted = document.Bytes is { } b ? bytesCounted + b.Sum(x => (long)x) : null;
                    wordsCounted = document.Words is { } w ? wordsCounted + w.Sum(x => (long)x) : null;
                    if (writer is not null)
                    {
                        Writing(path!, () => writer.Add(document));
                    }
                }

                if (writer is not null)
                {
                    Writing(path!, writer.Commit);
                }

                return 0;
            });
            double seconds = clock.Elapsed.TotalSeconds;
            if (path is not null && !corpus)
            {
                WriteIds(path, first!);
            }

            var report = new JsonObject
            {
                ["tokenizer"] = loaded.Name,
                ["kind"] = Kind(loaded.Tokenizer),
                ["vocabulary"] = loaded.VocabularySize,
                ["normalizer"] = loaded.Normalization,
                ["added_before"] = new JsonArray([.. loaded.AddedBefore.Select(id => (JsonNode)id)]),
                ["added_after"] = new JsonArray([.. loaded.AddedAfter.Select(id => (JsonNode)id)]),
                ["begins_each_text"] = loaded.BeginsEachText,
                ["document_prefix"] = loaded.DocumentPrefix,
                ["document_prefix_source"] = loaded.DocumentPrefixSource,
                ["detokenizer"] = parse.GetValue(documentOptions.Detokenize),
                ["documents"] = count,
                ["tokens"] = tokens,
                ["chars"] = chars,
                ["bytes"] = bytes,
                ["bytes_counted"] = bytesCounted,
                ["words_counted"] = wordsCounted,
                ["load_seconds"] = Math.Round(load, 3),
                ["tokenize_seconds"] = Math.Round(seconds, 3),
                ["mb_per_second"] = seconds > 0 ? Math.Round(bytes / seconds / 1e6, 3) : null,
                ["first_ids"] = new JsonArray([.. first!.Take(16).Select(id => (JsonNode)id)]),
            };
            if (path is not null)
            {
                report["out"] = path;
            }

            CompareCommand.Print(stdout, parse.GetValue(json), $"tokenize {ModelDocuments.NameOf(files)}", report);
            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>What encodes: the kind of tokenizer, and whose code.</summary>
    private static string Kind(Tokenizer tokenizer) => tokenizer switch
    {
        BpeTokenizer { ByteLevel: true } => "byte-level BPE (Microsoft.ML.Tokenizers)",
        BpeTokenizer => "BPE (Microsoft.ML.Tokenizers)",
        TiktokenTokenizer => "tiktoken (Microsoft.ML.Tokenizers)",
        SentencePieceBpe => "SentencePiece BPE (GpuInfo.Models.SentencePieceBpe)",
        UnigramTokenizer => "Unigram (GpuInfo.Models.UnigramTokenizer)",
        WordLevelTokenizer => "WordLevel (GpuInfo.Models.WordLevelTokenizer)",
        HuggingFaceWordPieceTokenizer => "WordPiece (GpuInfo.Models.HuggingFaceWordPieceTokenizer)",
        PieceBpeTokenizer { ByteLevel: true } => "byte-level BPE over pieces it cuts (GpuInfo.Models.PieceBpeTokenizer, merges by Microsoft.ML.Tokenizers)",
        PieceBpeTokenizer => "BPE over pieces it cuts (GpuInfo.Models.PieceBpeTokenizer, merges by Microsoft.ML.Tokenizers)",
        SentencePieceTokenizer => "SentencePiece (Microsoft.ML.Tokenizers)",
        _ => tokenizer.GetType().Name,
    };

    private static TokenizedCorpusWriter CreateWriter(string path, TokenizedCorpusInfo info)
    {
        TokenizedCorpusWriter? writer = null;
        Writing(path, () => writer = new TokenizedCorpusWriter(path, info));
        return writer!;
    }

    /// <summary>Runs a write of <paramref name="path"/>, its failure (a full disk, no permission, a pipe) a one-line message.</summary>
    private static void Writing(string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    private static void WriteIds(string path, int[] ids)
    {
        try
        {
            AtomicFile.Write(path, stream =>
            {
                NpyFormat.WriteHeader(stream, "<i4", [ids.Length]);
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ids.AsSpan()));
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
