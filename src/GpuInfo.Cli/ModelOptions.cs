using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli;

/// <summary>
/// Options of the verbs that run ONNX models over a text (perplexity, compare-models): the text or
/// its ids, the tokenizer, the windows and the ONNX Runtime provider; and the time split they report.
/// </summary>
internal sealed class ModelOptions
{
    private readonly Option<string?> _text = new("--text") { Description = "The text to score (UTF-8), tokenized with --tokenizer." };
    private readonly Option<string?> _tokens = new("--tokens") { Description = "Token ids to score instead of a text: .npy, .safetensors or .pt of integers, [N] or [1, N]." };
    private readonly Option<string?> _tokenizer = new("--tokenizer") { Description = $"{string.Join("|", TokenizerCatalog.Names)} (built in), or a tokenizer.json, a vocab.json with merges.txt beside it, a SentencePiece .model, or a folder holding one." };
    private readonly Option<int> _context = new("--context") { Description = "Tokens per window (the model's context).", DefaultValueFactory = _ => 1024 };
    private readonly Option<int?> _stride = new("--stride") { Description = "Tokens between window starts (1 to --context; default half of --context, 512 for the default context); each token is scored once, with at least context - stride tokens of left context where the text has them (with stride = context the windows are disjoint and each one's first token goes unscored, as in the Hugging Face guide)." };
    private readonly Option<int> _batch = new("--batch") { Description = "Windows per model run.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _provider = new("--provider") { Description = "ONNX Runtime execution provider: auto (CUDA when its provider loads, else CPU, saying why), cuda, or cpu.", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> _threads = new("--threads") { Description = "CPU provider threads (0: one per physical core this process may run on).", DefaultValueFactory = _ => 0 };

    /// <summary>--tokens: ids instead of a text.</summary>
    public Option<string?> Tokens => _tokens;

    public void AddTo(Command command)
    {
        command.Add(_text);
        command.Add(_tokens);
        command.Add(_tokenizer);
        command.Add(_context);
        command.Add(_stride);
        command.Add(_batch);
        command.Add(_provider);
        command.Add(_threads);
    }

    /// <summary>The windows asked for.</summary>
    public ModelWindowOptions Windows(ParseResult parse)
    {
        int context = parse.GetValue(_context);
        var windows = new ModelWindowOptions { Context = context, Stride = parse.GetValue(_stride) ?? Math.Max(1, context / 2), Batch = parse.GetValue(_batch) };
        if (windows.Context < 2 || windows.Stride < 1 || windows.Stride > windows.Context || windows.Batch < 1)
        {
            throw CliException.Usage($"need --context >= 2, 1 <= --stride <= --context and --batch >= 1; got {windows.Context}, {windows.Stride}, {windows.Batch}.");
        }

        return windows;
    }

    /// <summary>The text's ids (and byte counts), read or tokenized, and the tokenizer's vocabulary size when one was used.</summary>
    public (TokenizedText Text, int? TokenizerVocab, double Seconds) ReadText(ParseResult parse)
    {
        var text = ReadModelText(parse);
        return (text.Tokens, text.Tokenizer?.VocabularySize, text.Seconds);
    }

    /// <summary>The text's ids, and with --text also the tokenizer that made them and the text itself.</summary>
    public ModelText ReadModelText(ParseResult parse)
    {
        string? text = parse.GetValue(_text), tokens = parse.GetValue(_tokens), tokenizer = parse.GetValue(_tokenizer);
        if ((text is null) == (tokens is null))
        {
            throw CliException.Usage("give --text (with --tokenizer) or --tokens, one of them.");
        }

        var clock = Stopwatch.StartNew();
        if (tokens is not null)
        {
            if (tokenizer is not null)
            {
                throw CliException.Usage("--tokens are already ids: give no --tokenizer with them.");
            }

            var ids = TokenizedText.ReadIds(tokens);
            return new ModelText(Scorable(ids), null, null, clock.Elapsed.TotalSeconds);
        }

        if (tokenizer is null)
        {
            throw CliException.Usage("--text needs --tokenizer.");
        }

        var loaded = TokenizerCatalog.Load(tokenizer);
        string content = ReadUtf8(text!);
        var encoded = loaded.Encode(content, text!);
        return new ModelText(Scorable(encoded), loaded, content, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A text of fewer than 2 tokens has none to score (the first has nothing before it): bad input data, naming the file.</summary>
    private static TokenizedText Scorable(TokenizedText text) => text.Ids.Length >= 2 ? text
        : throw new InvalidFileException(text.Name, $"has {text.Ids.Length} token{(text.Ids.Length == 1 ? "" : "s")}; scoring needs at least 2 (the first has nothing before it to predict it).");

    /// <summary>The first of these options given on the command line, or null (for verbs where they apply only with a model).</summary>
    public string? FirstGiven(ParseResult parse) =>
        new Option[] { _text, _tokens, _tokenizer, _context, _stride, _batch, _provider, _threads }
            .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    /// <summary>Opens a model, checked against the tokenizer's vocabulary.</summary>
    public OnnxLanguageModel OpenModel(ParseResult parse, string path, int? tokenizerVocab)
    {
        var model = OnnxLanguageModel.Open(path, new OnnxModelOptions { ExecutionProvider = parse.GetValue(_provider) ?? "auto", Threads = parse.GetValue(_threads) });
        if (tokenizerVocab > model.Vocab)
        {
            model.Dispose();
            throw new InvalidFileException(path, $"vocabulary {model.Vocab} is smaller than the tokenizer's ({tokenizerVocab}, {parse.GetValue(_tokenizer)}): the model and the tokenizer do not match.");
        }

        return model;
    }

    public void CheckProvider(ParseResult parse)
    {
        if (parse.GetValue(_provider) is not ("auto" or "cuda" or "cpu"))
        {
            throw CliException.Usage($"--provider must be auto, cuda or cpu; got '{parse.GetValue(_provider)}'.");
        }

        if (parse.GetValue(_threads) < 0)
        {
            throw CliException.Usage($"--threads must be 0 or more; got {parse.GetValue(_threads)}.");
        }
    }

    /// <summary>Where the time went: loading the models, tokenizing, inside ONNX Runtime, and the rest (measures not hidden behind the model, and glue).</summary>
    public static void AddTiming(JsonObject report, long tokens, double seconds, double load, double tokenize, double model)
    {
        double other = seconds - load - tokenize - model;
        report["tokens_per_second"] = Json.Number(Math.Round(tokens / seconds, 1));
        report["load_seconds"] = Math.Round(load, 3);
        report["tokenize_seconds"] = Math.Round(tokenize, 3);
        report["model_seconds"] = Math.Round(model, 3);
        report["other_seconds"] = Math.Round(other, 3);
        report["outside_model_fraction"] = Json.Number(Math.Round((tokenize + other) / seconds, 4));
    }

    /// <summary>The longest text read whole: .NET's longest string, in UTF-8 bytes (each byte is at most one character).</summary>
    internal const long MaxTextBytes = 0x3FFFFFDF;

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

            return File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
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

/// <summary>A text to score: its ids, and, when a tokenizer made them, the tokenizer and the text itself.</summary>
internal sealed record ModelText(TokenizedText Tokens, TextTokenizer? Tokenizer, string? Content, double Seconds);
