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
    private readonly Option<string[]> _text = Documents("--text", $"The text to score (UTF-8), tokenized with --tokenizer. {ModelDocuments.FilesHelp}");
    private readonly Option<string[]> _tokens = Documents("--tokens", "Token ids to score instead of a text: .npy, .safetensors or .pt of integers, [N] or [1, N].");
    private readonly TextDocumentOptions _documents = new();
    private readonly Option<string[]> _samples = FileListOption.Create("--samples", "Instead of --text: lm-evaluation-harness's per-sample log of a loglikelihood_rolling task (lm_eval --log_samples: samples_wikitext_DATE.jsonl), each document's text scored as the harness scored it (--protocol rolling), beside the harness's own log-likelihood of it, with the words and bytes the task counted.", join: false);
    private bool _samplesAdded;
    private readonly Option<string> _protocol = new("--protocol") { Description = "sliding: windows every --stride tokens, as the Hugging Face perplexity guide; rolling: lm-evaluation-harness's loglikelihood_rolling, disjoint runs of --context scored tokens, each window a full context where the document has one, and every token scored, the first from --prefix-token; chunks: llama.cpp's llama-perplexity, disjoint chunks of --context tokens (the rest after the last whole one unscored), each scoring its second half but the first, with --prefix-token (llama.cpp's BOS, where its vocabulary adds one) in place of each chunk's first token.", DefaultValueFactory = _ => "sliding" };
    private readonly Option<string?> _prefixToken = new("--prefix-token") { Description = "A token put before each document, so that its first token is scored: an id, a token's text, auto (lm-evaluation-harness's prefix_token_id: the tokenizer's BOS, else its EOS, from tokenizer_config.json, a SentencePiece model or a built-in encoding's <|endoftext|>) or none. Default: auto with --protocol rolling; with sliding and chunks, the BOS the tokenizer begins each text with where it adds one, as Hugging Face's tokenizer(text) and llama.cpp do (a tokenizer.json's post_processor, Llama 3's; a SentencePiece model), else none (with --tokens, give llama.cpp's BOS id with chunks where its vocabulary adds a BOS). With chunks it is put before the text and in place of each chunk's first token." };
    private readonly Option<string?> _tokenizer = new("--tokenizer") { Description = $"{string.Join("|", TokenizerCatalog.Names)} (built in), or a tokenizer.json, a vocab.json with merges.txt beside it, a SentencePiece .model, or a folder holding one. Default: the one beside the model (an export's folder: its tokenizer.json), where there is one." };
    private readonly Option<int> _context = new("--context") { Description = "Tokens per window (the model's context). With --protocol rolling (and --samples) the default is lm-evaluation-harness's max_length of the model, as it resolves it: its config.json's n_positions, max_position_embeddings or n_ctx, else its tokenizer_config.json's model_max_length, else 2048; with --protocol chunks llama-perplexity's default, 512.", DefaultValueFactory = _ => 1024 };
    private readonly Option<int?> _requestContext = new("--context") { Description = "The most tokens a request's window holds, its context cut from the left beyond them (lm-evaluation-harness's max_length). Default: as the harness resolves it, the model's config.json n_positions, max_position_embeddings or n_ctx, else its tokenizer_config.json's model_max_length, else 2048." };
    private readonly Option<int?> _stride = new("--stride") { Description = "Tokens between window starts (1 to --context; default half of --context, 512 for the default context); each token is scored once, with at least context - stride tokens of left context where the text has them (with stride = context the windows are disjoint and each one's first token goes unscored, as in the Hugging Face guide)." };
    private readonly Option<int> _batch = new("--batch") { Description = "Windows per model run.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _provider = new("--provider") { Description = "ONNX Runtime execution provider: auto (CUDA when its provider loads, else CPU, saying why), cuda, or cpu.", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> _threads = new("--threads") { Description = "CPU provider threads (0: one per physical core this process may run on).", DefaultValueFactory = _ => 0 };

    /// <summary>--tokens: ids instead of a text.</summary>
    public Option<string[]> Tokens => _tokens;

    /// <summary>A list of documents: several files are scored each on its own.</summary>
    private static Option<string[]> Documents(string name, string description) =>
        FileListOption.Create(name, description + " Several files are documents, each scored on its own (no window crosses from one to the next); reports and partials sum over them.", join: false);

    public void AddTo(Command command)
    {
        command.Add(_text);
        _documents.AddTo(command);
        command.Add(_tokens);
        command.Add(_tokenizer);
        command.Add(_protocol);
        command.Add(_prefixToken);
        command.Add(_context);
        command.Add(_stride);
        command.Add(_batch);
        command.Add(_provider);
        command.Add(_threads);
    }

    /// <summary>--samples: a loglikelihood_rolling task's samples in place of --text (perplexity's).</summary>
    public void AddSamplesTo(Command command)
    {
        command.Add(_samples);
        _samplesAdded = true;
    }

    /// <summary>Whether --samples was given.</summary>
    public bool SamplesGiven(ParseResult parse) => _samplesAdded && FileListOption.Get(parse, _samples) is not null;

    /// <summary>The options of a verb that scores loglikelihood requests (one window each): the tokenizer, the context, the batch and the provider.</summary>
    public void AddRequestOptionsTo(Command command)
    {
        command.Add(_tokenizer);
        command.Add(_requestContext);
        command.Add(_batch);
        command.Add(_provider);
        command.Add(_threads);
    }

    /// <summary>The windows of loglikelihood requests (<see cref="AddRequestOptionsTo"/>): one per request, of at most --context tokens.</summary>
    /// <remarks>
    /// Without --context, the model's as lm-evaluation-harness resolves it (<see cref="HarnessMaxLength"/>: its
    /// config.json, else its tokenizer's tokenizer_config.json, else 2048), where it comes from in
    /// <paramref name="contextSource"/>.
    /// </remarks>
    public ModelWindowOptions RequestWindows(ParseResult parse, string model, out string contextSource)
    {
        int batch = parse.GetValue(_batch);
        contextSource = "--context";
        if (parse.GetValue(_requestContext) is not { } context)
        {
            (context, contextSource) = ResolveMaxLength(parse, model);
        }

        if (context < 2 || batch < 1)
        {
            throw CliException.Usage($"need --context >= 2 and --batch >= 1; got {context} and {batch}.");
        }

        return new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = context, Stride = context, Batch = batch };
    }

    /// <summary>lm-evaluation-harness's max_length of the model: its config.json's, else its tokenizer's tokenizer_config.json's, else 2048 (<see cref="HarnessMaxLength"/>).</summary>
    private (int Length, string Source) ResolveMaxLength(ParseResult parse, string model)
    {
        string? tokenizer = TokenizerOf(parse, model);
        string? tokenizerConfig = tokenizer is null || !(File.Exists(tokenizer) || Directory.Exists(tokenizer)) ? null
            : Path.Combine(Directory.Exists(tokenizer) ? tokenizer : Path.GetDirectoryName(Path.GetFullPath(tokenizer))!, "tokenizer_config.json");
        return HarnessMaxLength.Resolve(File.Exists(model) || Directory.Exists(model) ? OnnxModelFolder.ConfigFile(model) : null, tokenizerConfig);
    }

    /// <summary>The --tokenizer given, else the one in the folder of <paramref name="model"/>, loaded.</summary>
    public TextTokenizer LoadTokenizer(ParseResult parse, string? model = null) =>
        TokenizerCatalog.Load(TokenizerOf(parse, model) ?? throw CliException.Usage($"give --tokenizer{(model is null ? "" : $" (no tokenizer.json, vocab.json or tokenizer.model beside {model})")}."));

    /// <summary>--tokenizer, else the folder holding the tokenizer of <paramref name="model"/> (an export's folder), else null.</summary>
    private string? TokenizerOf(ParseResult parse, string? model) =>
        parse.GetValue(_tokenizer) ?? (model is null ? null : OnnxModelFolder.TokenizerFolder(model));

    /// <summary>llama-perplexity's context without -c: --protocol chunks' default --context.</summary>
    public const int LlamaPerplexityContext = 512;

    /// <summary>Where the last windows' --context came from, in words: "--context", the default, or the model's max_length (<see cref="Windows"/>).</summary>
    public string ContextSource { get; private set; } = "--context";

    /// <summary>The windows asked for.</summary>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="model">The model scored, whose max_length lm-evaluation-harness resolves (<see cref="HarnessMaxLength"/>) is
    /// --protocol rolling's default --context, as the harness's windows are; null: 1024.</param>
    public ModelWindowOptions Windows(ParseResult parse, string? model = null)
    {
        int context = parse.GetValue(_context);
        ContextSource = parse.GetResult(_context) is { Implicit: false } ? "--context" : "the default 1024";
        bool samples = SamplesGiven(parse);
        if (samples && parse.GetResult(_protocol) is { Implicit: false } && parse.GetValue(_protocol) != "rolling")
        {
            throw CliException.Usage($"--protocol {parse.GetValue(_protocol)}: --samples are a loglikelihood_rolling task's documents, scored with --protocol rolling as the harness scored them.");
        }

        var protocol = (samples ? "rolling" : parse.GetValue(_protocol)) switch
        {
            "sliding" => WindowProtocol.Sliding,
            "rolling" => WindowProtocol.Rolling,
            "chunks" => WindowProtocol.Chunks,
            var other => throw CliException.Usage($"--protocol must be sliding, rolling or chunks; got '{other}'."),
        };
        if (protocol == WindowProtocol.Rolling && model is not null && parse.GetResult(_context) is null or { Implicit: true })
        {
            (context, ContextSource) = ResolveMaxLength(parse, model);
        }
        else if (protocol == WindowProtocol.Chunks && parse.GetResult(_context) is null or { Implicit: true })
        {
            // llama-perplexity's own default (its params.n_ctx = 512), so that a run without -c and one without --context agree.
            (context, ContextSource) = (LlamaPerplexityContext, $"llama-perplexity's default {LlamaPerplexityContext}");
        }

        if (protocol != WindowProtocol.Sliding && parse.GetValue(_stride) is not null)
        {
            throw CliException.Usage($"--stride applies to --protocol sliding; {protocol.ToString().ToLowerInvariant()} windows are disjoint runs of --context tokens.");
        }

        if (protocol == WindowProtocol.Chunks && context < 4)
        {
            throw CliException.Usage($"--protocol chunks needs --context >= 4 (a chunk scores its second half but the first); got {context}.");
        }

        var windows = new ModelWindowOptions
        {
            Protocol = protocol,
            Context = context,
            Stride = protocol == WindowProtocol.Sliding ? parse.GetValue(_stride) ?? Math.Max(1, context / 2) : Math.Max(1, context),
            Batch = parse.GetValue(_batch),
        };
        if (windows.Context < 2 || windows.Stride < 1 || windows.Stride > windows.Context || windows.Batch < 1)
        {
            throw CliException.Usage($"need --context >= 2, 1 <= --stride <= --context and --batch >= 1; got {windows.Context}, {windows.Stride}, {windows.Batch}.");
        }

        return windows;
    }


    /// <summary>The text's ids, and with --text also the tokenizer that made them and, with <paramref name="keepText"/>, the text itself (null where it does not fit one string).</summary>
    /// <param name="shards">How many shards the run is one of: with more than one, a --text is tokenized whole by each, and a note on <paramref name="notes"/> says how to tokenize it once.</param>
    /// <param name="model">The model the text is for, whose folder's tokenizer is the default (<see cref="OnnxModelFolder.TokenizerFolder"/>), or null.</param>
    public ModelText ReadModelText(ParseResult parse, bool keepText = false, bool showProgress = false, int shards = 1, TextWriter? notes = null, string? model = null)
    {
        string[]? texts = FileListOption.Get(parse, _text), tokens = FileListOption.Get(parse, _tokens), samples = _samplesAdded ? FileListOption.Get(parse, _samples) : null;
        string? tokenizer = tokens is null ? TokenizerOf(parse, model) : parse.GetValue(_tokenizer);
        if (new[] { texts, tokens, samples }.Count(f => f is not null) != 1)
        {
            throw CliException.Usage(_samplesAdded ? "give --text (with --tokenizer), --tokens or --samples (with --tokenizer), one of them." : "give --text (with --tokenizer) or --tokens, one of them.");
        }

        var protocol = Windows(parse, model).Protocol;
        string? given = parse.GetValue(_prefixToken);
        if (given is not null && given.StartsWith('-') && int.TryParse(given, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int negative))
        {
            throw CliException.Usage($"--prefix-token {negative} is negative: a token id is 0 or more.");
        }

        string prefix = given ?? (protocol == WindowProtocol.Rolling ? "auto" : "none");
        string asked = given is null ? "--protocol rolling puts the tokenizer's BOS or EOS before each document (--prefix-token auto, its default)" : $"--prefix-token {prefix}";
        var clock = Stopwatch.StartNew();
        if (tokens is not null)
        {
            if (tokenizer is not null)
            {
                throw CliException.Usage("--tokens are already ids: give no --tokenizer with them.");
            }

            if (_documents.FirstGiven(parse) is { } option)
            {
                throw CliException.Usage($"{option.Name} applies to --text files.");
            }

            return ReadTokens(tokens, protocol, given, prefix, asked, clock);
        }

        if (tokenizer is null)
        {
            throw CliException.Usage($"{(samples is null ? "--text" : "--samples")} needs --tokenizer{(model is null ? "" : $" (none beside {model}: no tokenizer.json, vocab.json or tokenizer.model)")}.");
        }

        var loaded = TokenizerCatalog.Load(tokenizer);
        if (samples is not null)
        {
            if (_documents.FirstGiven(parse) is { } option)
            {
                throw CliException.Usage($"{option.Name} applies to --text: --samples holds each document as the harness scored it.");
            }

            var logged = HarnessSamples.ReadRolling(samples).ToList();
            var scored = EncodeTexts(logged.Select(d => (d.Name, d.Text)), null, ModelDocuments.NameOf(samples), loaded, () => TokenizerCatalog.Load(tokenizer), protocol, PrefixToken(prefix, asked, loaded), keepText, clock);
            return scored with { Samples = logged };
        }

        // Without --prefix-token, sliding windows and chunks take the tokens as the tokenizer gives them:
        // a BOS it begins each text with (Llama 3's, a SentencePiece model's) is then each document's
        // prefix token, as the Hugging Face guide's tokenizer(text) and llama.cpp's tokenize put it there.
        int? prefixToken = given is null && protocol != WindowProtocol.Rolling ? loaded.BeginsEachText : PrefixToken(prefix, asked, loaded);
        _documents.Check(parse, texts!);
        // A corpus of a few hundred MB takes minutes to tokenize: shown on a terminal, as a run's rows are.
        var text = ProgressBar.RunBytes(showProgress, "tokenizing", texts!.Sum(ModelDocuments.Size), progress =>
            EncodeTexts(_documents.Read(parse, texts!, progress), _documents.Rewrite(parse), ModelDocuments.NameOf(texts!), loaded, () => TokenizerCatalog.Load(tokenizer), protocol, prefixToken, keepText, clock));
        if (shards > 1)
        {
            notes?.WriteLine($"gpuinfo: note: this shard tokenized the whole --text ({text.Seconds:F1} s), as each of the {shards} does; tokenize it once (gpuinfo tokenize --tokenizer {tokenizer} --text {string.Join(' ', texts!)}{_documents.Given(parse)} --out F.safetensors) and give each shard --tokens F.safetensors: the same scores, in seconds.");
        }

        return text;
    }

    /// <summary>
    /// The ids of --tokens files: a tokenized corpus (<c>tokenize --out F.safetensors</c>) with its documents,
    /// their bytes and words, and its tokenizer's prefix token and vocabulary, as --text would give them; any
    /// other file is one document of ids.
    /// </summary>
    private static ModelText ReadTokens(string[] files, WindowProtocol protocol, string? given, string prefix, string asked, Stopwatch clock)
    {
        var read = files.Select(f => (File: f, Info: TokenizedCorpusFile.TryReadInfo(f))).ToList();
        var infos = read.Where(c => c.Info is not null).ToList();
        if (infos.FirstOrDefault(c => c.Info!.Tokenizer != infos[0].Info!.Tokenizer) is { File: not null } other)
        {
            throw CliException.Usage($"--tokens {infos[0].File} was tokenized by {infos[0].Info!.Tokenizer} and {other.File} by {other.Info!.Tokenizer}: score one tokenizer's ids at a time.");
        }

        var info = infos.FirstOrDefault().Info;
        int? prefixId = prefix switch
        {
            // As with --text: sliding windows and chunks take a corpus's documents as its tokenizer began them.
            _ when given is null && protocol != WindowProtocol.Rolling => info?.BeginsEachText,
            "none" => null,
            _ when Id(prefix) is { } id => id,
            "auto" when info is not null => info.DocumentPrefix
                ?? throw CliException.Usage($"{asked}, but {info.Tokenizer}, which tokenized {infos[0].File}, has none: {info.DocumentPrefixSource}. Give --prefix-token as an id, or none."),
            _ when info is not null => throw CliException.Usage($"--prefix-token '{prefix}': --tokens {infos[0].File} keeps ids, not the tokenizer's tokens; give an id, auto or none."),
            _ => throw CliException.Usage($"{asked}, but --tokens have no tokenizer to find it in: give --prefix-token as an id, or none."),
        };
        if (infos.Count == files.Length)
        {
            // Corpora only (a corpus tokenized a file at a time): read into one text's arrays, the memory of the text once.
            var all = TokenizedCorpusFile.Read(files, prefixId, lmEvalWords: protocol == WindowProtocol.Rolling);
            return new ModelText(Scorable([all.Text], prefixId, ModelDocuments.NameOf(files)), null, null, clock.Elapsed.TotalSeconds) { DocumentNames = all.DocumentNames, Corpus = info };
        }

        var texts = new List<TokenizedText>();
        var names = new List<string>();
        foreach (var (file, corpusInfo) in read)
        {
            if (corpusInfo is null)
            {
                texts.Add(TokenizedText.ReadIds(file));
                names.Add(file);
                continue;
            }

            var corpus = TokenizedCorpusFile.Read(file, prefixId, lmEvalWords: protocol == WindowProtocol.Rolling);
            texts.Add(corpus.Text);
            names.AddRange(corpus.DocumentNames);
        }

        return new ModelText(Scorable(texts, prefixId, ModelDocuments.NameOf(files)), null, null, clock.Elapsed.TotalSeconds) { DocumentNames = names, Corpus = info };
    }

    /// <summary>The documents of --text, tokenized on every core, as one text to score; the text itself kept only for what shows it (the IB's contexts), and only while it fits one string.</summary>
    private static ModelText EncodeTexts(IEnumerable<(string Name, string Content)> documents, Func<string, string>? rewrite, string name, TextTokenizer loaded, Func<TextTokenizer> another, WindowProtocol protocol, int? prefixToken, bool keepText, Stopwatch clock)
    {
        var names = new List<string>();
        var kept = keepText ? new StringBuilder() : null;
        var read = documents.Select(d =>
        {
            if (keepText && rewrite is not null)
            {
                // The IB shows its contexts from the text it kept, so it keeps and encodes the rewritten text (it counts no bytes or words for a report).
                d = (d.Name, rewrite(d.Content));
            }

            names.Add(d.Name);
            if (kept is not null && kept.Length + (long)d.Content.Length <= ModelDocuments.MaxTextBytes)
            {
                kept.Append(d.Content);
            }
            else
            {
                kept = null;
            }

            return d;
        });
        var joined = Scorable(new DocumentEncoder(loaded, another).Encode(read, protocol == WindowProtocol.Rolling, keepText ? null : rewrite), prefixToken, name);
        return new ModelText(joined, loaded, kept?.ToString(), clock.Elapsed.TotalSeconds)
        {
            DocumentNames = names,
        };
    }

    /// <summary>
    /// The windows and text of a model scored against a llama.cpp <c>.kld</c> base: its tokens, in
    /// llama.cpp's chunks of its n_ctx (so that the model's rows are the file's rows), with the BOS
    /// that llama.cpp put in place of each chunk's first token where its vocabulary adds one, which
    /// <c>--prefix-token</c> must name (an id, checked against the file's first token) or say is none.
    /// </summary>
    public (ModelWindowOptions Windows, ModelText Text) ForKld(ParseResult parse, GpuInfo.Formats.KldFormat kld, TextWriter stderr)
    {
        if (((Option[])[_text, _tokens, _tokenizer, .. _documents.All]).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
        {
            throw CliException.Usage($"{given.Name}: {kld.Path} is a llama.cpp .kld file, which carries the tokens it scores.");
        }

        if (parse.GetResult(_protocol) is { Implicit: false } && parse.GetValue(_protocol) != "chunks")
        {
            throw CliException.Usage($"--protocol {parse.GetValue(_protocol)}: {kld.Path} is a llama.cpp .kld file, scored in llama.cpp's chunks (--protocol chunks).");
        }

        if (parse.GetResult(_context) is { Implicit: false } && parse.GetValue(_context) != kld.Context)
        {
            throw CliException.Usage($"--context {parse.GetValue(_context)}: {kld.Path} holds chunks of {kld.Context} tokens (its n_ctx); give --context {kld.Context} or none.");
        }

        if (parse.GetValue(_stride) is not null)
        {
            throw CliException.Usage($"--stride: {kld.Path} is a llama.cpp .kld file, scored in llama.cpp's chunks of {kld.Context} tokens.");
        }

        int? prefix = parse.GetValue(_prefixToken) switch
        {
            null => throw CliException.Usage(
                $"{kld.Path} is a llama.cpp .kld file: give --prefix-token with llama.cpp's BOS id where its vocabulary adds one (the file's first token, {kld.Tokens[0]}, is then that BOS; llama.cpp put it in place of each chunk's first token), or --prefix-token none."),
            "none" => null,
            var value when Id(value) is { } id => id,
            var value => throw CliException.Usage($"--prefix-token {value}: against a .kld file give an id (llama.cpp's BOS) or none; there is no tokenizer to look a token's text up in."),
        };
        if (prefix is { } bos && kld.Tokens[0] != bos)
        {
            throw CliException.Usage($"--prefix-token {bos}: {kld.Path} begins with token {kld.Tokens[0]}, not that BOS (llama.cpp puts its BOS first where its vocabulary adds one): give its BOS id, or none.");
        }

        if (prefix is null)
        {
            // Not checkable without the GGUF's vocabulary: most add a BOS, and then every later chunk's inputs differ.
            stderr.WriteLine($"gpuinfo: note: --prefix-token none: the model sees each chunk's own first token where llama.cpp saw its BOS, if its vocabulary adds one ({kld.Path} begins with token {kld.Tokens[0]}).");
        }

        var tokens = new TokenizedText(kld.Tokens, null, kld.Path, "llama.cpp .kld");
        var text = prefix is null ? tokens : TokenizedText.Join([tokens], prefix, kld.Path);
        var windows = new ModelWindowOptions { Protocol = WindowProtocol.Chunks, Context = kld.Context, Stride = kld.Context, Batch = parse.GetValue(_batch) };
        if (windows.Batch < 1)
        {
            throw CliException.Usage($"need --batch >= 1; got {windows.Batch}.");
        }

        return (windows, new ModelText(text, null, null, 0) { DocumentNames = [kld.Path] });
    }

    /// <summary>A --prefix-token given as an id (digits only), else null.</summary>
    private static int? Id(string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) ? id : null;

    /// <summary>The prefix token asked for: none, auto (the tokenizer's), an id, or a token's text.</summary>
    internal static int? PrefixToken(string prefix, string asked, TextTokenizer tokenizer) => prefix switch
    {
        "none" => null,
        "auto" => tokenizer.DocumentPrefix
            ?? throw CliException.Usage($"{asked}, but {tokenizer.Name} has none: {tokenizer.DocumentPrefixSource}. Give --prefix-token as an id or a token's text, or none."),
        _ when Id(prefix) is { } id => id,
        _ => TokenizerCatalog.TokenId(tokenizer.Tokenizer, prefix)
            ?? throw CliException.Usage($"--prefix-token '{prefix}' is not one token of {tokenizer.Name}: give an id, a token's text, auto or none."),
    };

    /// <summary>
    /// Texts (each one document, or a tokenized corpus's several) joined into one text to score. A document of no
    /// tokens is refused, naming it, and so is a text with nothing to score (every document of one token,
    /// without a prefix token): bad input data.
    /// </summary>
    private static TokenizedText Scorable(IEnumerable<TokenizedText> texts, int? prefix, string name)
    {
        // Each text is added as it comes (documents tokenized on the fly need not all be held); the first waits for a second.
        TokenizedText? first = null;
        TokenizedTextBuilder? builder = null;
        int longest = 0;
        foreach (var text in texts)
        {
            longest = Math.Max(longest, Enumerable.Range(0, text.DocumentStarts.Count).Max(k => text.Document(k).Length));
            if (first is null)
            {
                first = text;
                continue;
            }

            builder ??= Start(first);
            Add(builder, text);
        }

        if (first is null)
        {
            throw new InvalidOperationException("no texts to score.");
        }

        if (prefix is null && builder is null && first.DocumentStarts.Count == 1 && first.Ids.Length < 2)
        {
            throw new InvalidFileException(first.Name,
                $"has {first.Ids.Length} token{(first.Ids.Length == 1 ? "" : "s")}; scoring needs at least 2 (the first has nothing before it to predict it; a --prefix-token would).");
        }

        if (prefix is null && longest < 2)
        {
            throw new InvalidFileException(first.Name, "and every other document have 1 token; scoring needs at least 2 in one (the first has nothing before it to predict it; a --prefix-token would).");
        }

        // A text already joined as asked (one document without a prefix, a corpus read with its prefix tokens) is scored as it is.
        return builder is null && first.PrefixToken == prefix && first.Ids.Length > 0 ? first : (builder ?? Start(first)).Build(name);

        TokenizedTextBuilder Start(TokenizedText text)
        {
            var started = new TokenizedTextBuilder(prefix);
            Add(started, text);
            return started;
        }

        static void Add(TokenizedTextBuilder builder, TokenizedText text)
        {
            if (text.Ids.Length == 0)
            {
                throw new InvalidFileException(text.Name, "has 0 tokens: a document to score needs at least 1.");
            }

            builder.Add(text);
        }
    }

    /// <summary>The first of these options given on the command line, or null (for verbs where they apply only with a model).</summary>
    public string? FirstGiven(ParseResult parse) =>
        ((Option[])[_text, .. _documents.All, _tokens, _tokenizer, _protocol, _prefixToken, _context, _stride, _batch, _provider, _threads])
            .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    /// <summary>Opens a model, checked against the tokenizer's vocabulary and the prefix token.</summary>
    public OnnxLanguageModel OpenModel(ParseResult parse, string path, ModelText text)
    {
        var model = OnnxLanguageModel.Open(path, new OnnxModelOptions { ExecutionProvider = parse.GetValue(_provider) ?? "auto", Threads = parse.GetValue(_threads) });
        int? prefixToken = text.Tokens.PrefixToken;
        if (text.Vocabulary > model.Vocab)
        {
            model.Dispose();
            throw new InvalidFileException(path, $"vocabulary {model.Vocab} is smaller than the tokenizer's ({text.Vocabulary}, {text.TokenizerName}): the model and the tokenizer do not match.");
        }

        if (prefixToken >= model.Vocab)
        {
            model.Dispose();
            throw CliException.Usage($"the prefix token {prefixToken} (--prefix-token) is not in the vocabulary of {path} (0 to {model.Vocab - 1}).");
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

    /// <summary>How the text was cut: the protocol, context and stride, documents, prefix token, windows, and the text's tokens no window scored.</summary>
    public static void AddWindows(JsonObject report, ModelRowSource source)
    {
        var w = source.Windows;
        report["protocol"] = w.Protocol.ToString().ToLowerInvariant();
        report["context"] = w.Context;
        report["stride"] = w.Stride;
        report["documents"] = w.Documents;
        report["prefix_token"] = source.PrefixToken;
        report["windows"] = w.Count;
        report["unscored"] = source.UnscoredTextTokens; // each document's first token (unless a prefix token predicts it), and, sliding with stride = context, every later window's first
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
}

/// <summary>A text to score: its ids, and, when a tokenizer made them, the tokenizer and the text itself (its documents' texts end to end; null past .NET's longest string).</summary>
internal sealed record ModelText(TokenizedText Tokens, TextTokenizer? Tokenizer, string? Content, double Seconds)
{
    /// <summary>The account of the tokenizer that made a tokenized corpus read with --tokens, or null.</summary>
    public TokenizedCorpusInfo? Corpus { get; init; }

    /// <summary>The vocabulary of the tokenizer that made the ids, where known.</summary>
    public int? Vocabulary => Tokenizer?.VocabularySize ?? Corpus?.Vocabulary;

    /// <summary>The tokenizer that made the ids, where known.</summary>
    public string? TokenizerName => Tokenizer?.Name ?? Corpus?.Tokenizer;

    /// <summary>Each document's name: its file, or file:line for a .jsonl line.</summary>
    public IReadOnlyList<string> DocumentNames { get; init; } = [Tokens.Name];

    /// <summary>With --samples, the harness's log of each document (its log-likelihood, words and bytes), in order; else null.</summary>
    public IReadOnlyList<HarnessSamples.RollingSample>? Samples { get; init; }
}
