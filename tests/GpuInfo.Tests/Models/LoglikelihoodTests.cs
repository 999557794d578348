using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Measures;

namespace GpuInfo.Tests.Models;

/// <summary>
/// lm-evaluation-harness's loglikelihood requests: split and tokenized as its <c>lambada_openai</c> task and its
/// <c>TemplateLM._encode_pair</c> and <c>loglikelihood</c> do (transcribed here), scored against bigram.onnx in
/// closed form (float64), and against window.onnx's own sliding-window scores of the window each request gets.
/// </summary>
public sealed class LoglikelihoodTests
{
    private static readonly string[] Words = File.ReadAllText(ModelFiles.SampleText).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>lambada_openai's doc_to_text and doc_to_target: Python's text.split(' '), the last piece after a space.</summary>
    private static (string Context, string Continuation) Lambada(string text)
    {
        string[] pieces = text.Split(' '); // Python's str.split(' '): empty pieces kept
        return (string.Join(' ', pieces[..^1]), " " + pieces[^1]);
    }

    [Theory]
    [InlineData("The model reads a window")]
    [InlineData("word")]
    [InlineData("two  spaces")]
    [InlineData("ends with a space ")]
    [InlineData(" ")]
    public void A_passage_splits_as_lambada_openai_splits_it(string text)
    {
        var request = LoglikelihoodRequest.LastWord("p", text);
        Assert.Equal(Lambada(text), (request.Context, request.Continuation));
    }

    [Fact]
    public void White_space_ending_the_context_moves_to_the_continuation()
    {
        var gpt2 = TokenizerCatalog.Load("gpt2");
        AssertSplit([15496], [995], LoglikelihoodRequests.Split(gpt2, new("r", "Hello ", "world"), null));
        AssertSplit([15496], [995], LoglikelihoodRequests.Split(gpt2, new("r", "Hello", " world"), null));

        // Without the move, "Hello " is [15496, 220] and "Hello world" adds nothing after two tokens: lm-evaluation-harness moves it.
        Assert.Equal([15496, 220], gpt2.Encode("Hello ", "t").Ids);
    }

    [Fact]
    public void An_empty_context_is_the_prefix_token_and_the_continuation_is_encoded_without_added_tokens()
    {
        var gpt2 = TokenizerCatalog.Load("gpt2");
        AssertSplit([50256], [15496, 995], LoglikelihoodRequests.Split(gpt2, new("r", "", "Hello world"), 50256));

        // A continuation that begins with the prefix token: its first token is the context.
        AssertSplit([50256], [17250], LoglikelihoodRequests.Split(gpt2, new("r", "", "<|endoftext|>Hi"), 50256));
        var refused = Assert.Throws<InvalidFileException>(() => LoglikelihoodRequests.Split(gpt2, new("doc.jsonl:3", "", "Hi"), null));
        Assert.Contains("doc.jsonl:3", refused.Message, StringComparison.Ordinal);
        Assert.Contains("empty context", refused.Message, StringComparison.Ordinal);

        // A tokenizer that adds a BOS: the context keeps it, as tok_encode's add_special_tokens default does; an empty context's continuation does not.
        var bpe = TokenizerCatalog.Load(ModelFiles.Path("sp_bpe.model"));
        int bos = bpe.BeginsEachText!.Value;
        var (context, continuation) = LoglikelihoodRequests.Split(bpe, new("r", "Hello", " world"), bos);
        var whole = bpe.Encode("Hello world", "t").Ids;
        Assert.Equal(bos, context[0]);
        Assert.Equal(bpe.Encode("Hello", "t").Ids, context);
        Assert.Equal(whole[context.Length..], continuation);
        var (empty, alone) = LoglikelihoodRequests.Split(bpe, new("r", "", "Hello world"), bos);
        Assert.Equal([bos], empty);
        Assert.Equal(whole[1..], alone);
    }

    [Fact]
    public void Requests_run_longest_window_first_ties_in_their_order()
    {
        var gpt2 = TokenizerCatalog.Load("gpt2");
        LoglikelihoodRequest[] requests = [new("a", "One", " two"), new("b", "One two three four five six", " seven"), new("c", "Two", " one"), new("d", "One two three", " four"), new("e", "One two three four five six seven eight", " nine")];
        var encoded = LoglikelihoodRequests.Encode(gpt2, requests, null, "r");
        var sorted = LoglikelihoodRequests.LongestFirst(encoded, 6, out int[] order);
        Assert.Equal([1, 4, 3, 0, 2], order); // windows of at most 7 tokens: b and e both 7, then d 4, a and c 2 each
        for (int i = 0; i < order.Length; i++)
        {
            Assert.Equal(encoded.Document(order[i]).ToArray(), sorted.Document(i).ToArray());
            Assert.Equal(encoded.Continuations![order[i]], sorted.Continuations![i]);
        }

        Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.LongestFirst(gpt2.Encode("plain text", "t"), 6, out _));
    }

    [Fact]
    public void A_context_that_begins_with_the_prefix_token_text_gets_no_second_one()
    {
        // HFLM.tok_encode: has_bos_prefix(string, tokenizer.decode(prefix_token_id)) encodes without special tokens, so a
        // chat template's "<s>" (parsed as the special token by a tokenizer.json) is the context's one BOS.
        var bpe = TokenizerCatalog.Load(ModelFiles.Path("sp_bpe_tokenizer.json"));
        int bos = bpe.BeginsEachText!.Value;
        Assert.Equal("<s>", bpe.Tokenizer.Decode([bos]));
        var withAdded = bpe.Encode("<s>Hello world", "t").Ids;
        Assert.Equal([bos, bos], withAdded[..2]); // the template's BOS, then the text's
        var (context, continuation) = LoglikelihoodRequests.Split(bpe, new("r", "<s>Hello", " world"), bos);
        Assert.Equal(withAdded[1..], context.Concat(continuation).ToArray());
        Assert.Equal(bos, context[0]);
        Assert.NotEqual(bos, context[1]);

        // Without the prefix token's text at its start, the context keeps the BOS the tokenizer adds.
        var (plain, _) = LoglikelihoodRequests.Split(bpe, new("r", "Hello <s>", " world"), bos);
        Assert.Equal(bpe.Encode("Hello <s>", "t").Ids, plain);
        Assert.Equal(bos, plain[0]);
    }

    [Fact]
    public void A_continuation_of_no_tokens_is_refused_naming_the_request()
    {
        var gpt2 = TokenizerCatalog.Load("gpt2");
        var e = Assert.Throws<InvalidFileException>(() => LoglikelihoodRequests.Encode(gpt2, [new("a.jsonl:1", "Hi", " x"), new("a.jsonl:2", "Hi", "")], null, "a.jsonl"));
        Assert.Contains("a.jsonl:2", e.Message, StringComparison.Ordinal);
        Assert.Contains("adds no tokens", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidFileException>(() => LoglikelihoodRequests.Encode(gpt2, [], null, "a.jsonl"));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("sp_bpe_tokenizer.json")]
    public void Requests_encode_on_several_workers_as_each_alone(string tokenizerName)
    {
        // Multiple-choice documents (a context shared by consecutive requests, encoded once a worker), trailing spaces,
        // empty contexts and the prefix token's text: each request as Split makes it alone, on 1 to 4 workers.
        string path = tokenizerName == "gpt2" ? "gpt2" : ModelFiles.Path(tokenizerName);
        var tokenizer = TokenizerCatalog.Load(path);
        int prefix = tokenizer.BeginsEachText ?? 50256;
        string prefixText = tokenizer.Tokenizer.Decode([prefix]);
        int seed = Environment.TickCount;
        var random = new Random(seed);
        string[] words = ["the", "model", "reads", "a", "window", "of", "tokens,", "Caf\u00e9", "na\u00efve", "\U0001F600", "scores", "once."];
        string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
        var requests = new List<LoglikelihoodRequest>();
        while (requests.Count < 400)
        {
            string context = random.Next(10) switch
            {
                0 => "",
                1 => prefixText + Words(random.Next(1, 30)),
                2 => Words(random.Next(1, 30)) + " ",
                _ => Words(random.Next(1, 60)),
            };
            int choices = random.Next(1, 5);
            for (int c = 0; c < choices; c++)
            {
                requests.Add(new($"r{requests.Count}", context, " " + Words(random.Next(1, 6))));
            }
        }

        var alone = requests.Select(r => LoglikelihoodRequests.Split(tokenizer, r, prefix)).ToArray();
        foreach (int threads in new[] { 1, 2, 4 })
        {
            var encoded = LoglikelihoodRequests.EncodeRequests(tokenizer, requests, prefix, "r", () => TokenizerCatalog.Load(path), threads, parallelChars: 0);
            for (int d = 0; d < requests.Count; d++)
            {
                Assert.True(alone[d].Context.Concat(alone[d].Continuation).SequenceEqual(encoded.Document(d).ToArray()), $"seed {seed}, {threads} workers, request {d}");
                Assert.Equal(alone[d].Continuation.Length, encoded.Continuations![d]);
            }
        }

        // Of two bad requests, the first in order is named, whichever worker meets it first.
        requests[310] = requests[310] with { Continuation = "" };
        requests[45] = requests[45] with { Context = "", Continuation = "" };
        for (int round = 0; round < 5; round++)
        {
            var e = Assert.Throws<InvalidFileException>(() => LoglikelihoodRequests.EncodeRequests(tokenizer, requests, prefix, "r", () => TokenizerCatalog.Load(path), 4, parallelChars: 0));
            Assert.StartsWith("r45:", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>TemplateLM._encode_pair and loglikelihood's empty-context branch, transcribed: (context_enc, continuation_enc).</summary>
    private static (int[], int[]) EncodePair(TextTokenizer tokenizer, string context, string continuation, int prefix)
    {
        if (context == "")
        {
            int[] c = tokenizer.Encode(continuation, "t").Ids; // the test tokenizer adds no tokens
            return prefix != c[0] ? ([prefix], c) : (c[..1], c[1..]);
        }

        int spaces = context.Length - context.TrimEnd().Length;
        if (spaces > 0)
        {
            continuation = context[^spaces..] + continuation;
            context = context[..^spaces];
        }

        int[] whole = tokenizer.Encode(context + continuation, "t").Ids, contextEnc = tokenizer.Encode(context, "t").Ids;
        return (contextEnc, whole.Length > contextEnc.Length ? whole[contextEnc.Length..] : []); // Python's slice past the end: empty
    }

    [Theory]
    [InlineData(false, "bigram.onnx")]
    [InlineData(true, "bigram.onnx")]
    [InlineData(true, "bigram_keep.onnx")] // logits_to_keep: the head on each batch's scored positions alone
    public void Requests_score_as_bigram_onnx_in_closed_form(bool fields, string model)
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "requests.jsonl"), perRequest = Path.Combine(dir.Path, "scores.jsonl");
        var requests = new List<(string Context, string Continuation)>();
        for (int i = 0; i < 14; i++)
        {
            int start = random.Next(Words.Length - 1), count = random.Next(1, 30);
            requests.Add(Lambada(string.Join(' ', Words.Skip(start).Take(count))));
        }

        if (fields)
        {
            // And continuations of one token that the model would choose greedily, so that is_greedy is true for some.
            // (A context whose greedy next token merges with its last word has none: the next context is tried.)
            var tokens = Enumerable.Range(0, ModelFiles.Vocab).Select(id => tokenizer.Tokenizer.Decode([id])).Where(x => !string.IsNullOrEmpty(x)).ToArray();
            var greedy = requests.Select(r => r.Context).Where(c => c.Length > 0).Append("The model").Distinct()
                .SelectMany(c => tokens.Where(x => EncodePair(tokenizer, c, x, 7).Item2.Length > 0 && IsGreedy(tokenizer, (c, x), 7)).Select(x => (c, x)))
                .Take(6).ToList();
            Assert.True(greedy.Count > 0, $"seed {seed}: no token of the vocabulary is bigram.onnx's greedy continuation of any context");
            requests.AddRange(greedy);
            File.WriteAllLines(file, requests.Select(r => JsonSerializer.Serialize(new { prompt = r.Context, answer = r.Continuation })));
        }
        else
        {
            File.WriteAllLines(file, requests.Select(r => JsonSerializer.Serialize(new { text = r.Context.Length > 0 ? r.Context + r.Continuation : r.Continuation[1..] })));
        }

        int window = random.Next(20, 48); // above the longest word of the sample text (15 tokens), below most passages
        string[] input = fields ? ["--text", file, "--text-field", "prompt", "--continuation-field", "answer"] : ["--text", file];
        var report = CliRunner.Json(["loglikelihood", "--model", ModelFiles.Path(model), "--tokenizer", ModelFiles.VocabJson, .. input,
            "--prefix-token", "7", "--context", window.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "3", "--per-document", perRequest, "--device", "cpu"]);
        var lines = File.ReadAllLines(perRequest).Select(l => (JsonObject)JsonNode.Parse(l)!).ToArray();
        Assert.Equal(requests.Count, lines.Length);
        double sum = 0;
        int greedyCount = 0;
        for (int d = 0; d < requests.Count; d++)
        {
            var (contextIds, continuationIds) = EncodePair(tokenizer, requests[d].Context, requests[d].Continuation, 7);
            int[] ids = [.. contextIds, .. continuationIds];
            double expected = 0;
            for (int t = contextIds.Length; t < ids.Length; t++)
            {
                expected -= BigramClosedForm.Nll(ids[t - 1], ids[t], ModelFiles.Vocab);
            }

            bool isGreedy = IsGreedy(tokenizer, requests[d], 7);
            double got = CliRunner.Number(lines[d]["loglikelihood"]);
            Assert.True(Math.Abs(got - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"seed {seed}, request {d} ({requests[d]}): {got} against {expected}");
            Assert.Equal(isGreedy, (bool)lines[d]["is_greedy"]!);
            Assert.Equal(continuationIds.Length, (int)lines[d]["continuation_tokens"]!);
            Assert.Equal(Math.Min(ids.Length - 1, window) - (continuationIds.Length - 1), (int)lines[d]["context_tokens"]!);
            Assert.Equal(ids.Length - 1 > window, (bool)lines[d]["truncated"]!);
            sum += expected;
            greedyCount += isGreedy ? 1 : 0;
        }

        Assert.True(!fields || greedyCount > 0, "some requests are greedy");
        Assert.Equal(requests.Count, (int)report["requests"]!);
        Assert.Equal((double)greedyCount / requests.Count, CliRunner.Number(report["acc"]), 12);
        Assert.Equal(Math.Exp(-sum / requests.Count), CliRunner.Number(report["perplexity"]), Math.Exp(-sum / requests.Count) * 1e-4);
    }

    [Theory]
    [InlineData("lambada", 16, 1)]
    [InlineData("lambada", 64, 3)]
    [InlineData("pairs", 16, 4)]
    [InlineData("pairs", 64, 1)]
    public void Requests_score_as_lm_evaluation_harness_scores_them(string kind, int context, int batch)
    {
        // make_loglikelihood_reference.py: the harness's own lambada_openai templates, loglikelihood and _encode_pair, over window.onnx in float64.
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "requests.jsonl"), perRequest = Path.Combine(dir.Path, "scores.jsonl");
        string[] input;
        if (kind == "lambada")
        {
            File.WriteAllLines(file, reference["passages"]!.AsArray().Select(p => JsonSerializer.Serialize(new { text = (string)p! })));
            input = ["--text", file];
        }
        else
        {
            File.WriteAllLines(file, reference["pairs"]!.AsArray().Select(p => JsonSerializer.Serialize(new { context = (string)p![0]!, continuation = (string)p[1]! })));
            input = ["--text", file, "--text-field", "context", "--continuation-field", "continuation"];
        }

        var report = CliRunner.Json(["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, .. input,
            "--prefix-token", reference["prefix"]!.ToString(), "--context", context.ToString(System.Globalization.CultureInfo.InvariantCulture), "--per-document", perRequest, "--device", "cpu",
            "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture)]); // requests of other lengths batched: each window runs on into the next request's tokens
        var expected = reference["results"]![$"{kind}/{context}"]!.AsArray();
        var lines = File.ReadAllLines(perRequest).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(expected.Count, lines.Length);
        for (int d = 0; d < lines.Length; d++)
        {
            double want = CliRunner.Number(expected[d]!["loglikelihood"]), got = CliRunner.Number(lines[d]["loglikelihood"]);
            Assert.True(Math.Abs(got - want) <= 1e-5 * Math.Abs(want) + 1e-5, $"{kind} request {d}, context {context}: {got} against the harness's {want}");
            Assert.Equal((bool)expected[d]!["is_greedy"]!, (bool)lines[d]["is_greedy"]!);
        }

        double mean = expected.Average(r => CliRunner.Number(r!["loglikelihood"]));
        Assert.Equal(Math.Exp(-mean), CliRunner.Number(report["perplexity"]), Math.Exp(-mean) * 1e-5);
        if (kind == "lambada")
        {
            // The harness's own bootstrap_stderr of its perplexity over these log-likelihoods, 100000 resamples as evaluate() draws them.
            double stderr = CliRunner.Number(reference["bootstrap"]!["cases"]!.AsArray().Single(c => (string)c!["name"]! == $"lambada/{context}")!["perplexity_stderr"]);
            Assert.Equal(stderr, CliRunner.Number(report["perplexity_stderr"]), stderr * 1e-5);
        }

        Assert.True(kind != "lambada" || context != 16 || (long)report["truncated"]! > 0, "a passage longer than the window");
    }

    [Theory]
    [InlineData("choices", 16, 1)]
    [InlineData("choices", 64, 5)]
    [InlineData("multiple_input", 16, 2)]
    [InlineData("multiple_input", 64, 1)]
    public void Multiple_choice_documents_score_as_lm_evaluation_harness_scores_them(string kind, int context, int batch)
    {
        // make_loglikelihood_reference.py: the harness's own ConfigurableTask.construct_requests and process_results of a multiple_choice task.
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "choices.jsonl"), perDocument = Path.Combine(dir.Path, "documents.jsonl");
        File.WriteAllLines(file, reference[kind]!.AsArray().Select(d => d!.ToJsonString()));
        string[] fields = kind == "choices" ? ["--text-field", "context"] : ["--continuation-field", "continuation"]; // Winogrande's shape: each choice a context
        var report = CliRunner.Json(["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", file,
            .. fields, "--choices-field", "choices", "--prefix-token", reference["prefix"]!.ToString(), "--context", context.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--per-document", perDocument, "--device", "cpu"]);
        var expected = reference["results"]![$"{kind}/{context}"]!.AsArray();
        var lines = File.ReadAllLines(perDocument).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(expected.Count, lines.Length);
        for (int d = 0; d < lines.Length; d++)
        {
            var want = expected[d]!["loglikelihoods"]!.AsArray().Select(CliRunner.Number).ToArray();
            var got = lines[d]["loglikelihoods"]!.AsArray().Select(CliRunner.Number).ToArray();
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5 * Math.Abs(want[i]) + 1e-5, $"document {d}, choice {i}, context {context}: {got[i]} against the harness's {want[i]}");
            }

            Assert.Equal(expected[d]!["is_greedy"]!.AsArray().Select(g => (bool)g!), lines[d]["is_greedy"]!.AsArray().Select(g => (bool)g!));
            Assert.Equal(CliRunner.Number(expected[d]!["acc"]), CliRunner.Number(lines[d]["acc"]));
            Assert.Equal(CliRunner.Number(expected[d]!["acc_norm"]), CliRunner.Number(lines[d]["acc_norm"]));
        }

        Assert.Equal(expected.Count, (int)report["documents"]!);
        Assert.Equal(expected.Sum(d => d!["loglikelihoods"]!.AsArray().Count), (int)report["requests"]!);
        Assert.Equal(expected.Average(d => CliRunner.Number(d!["acc"])), CliRunner.Number(report["acc"]), 12);
        Assert.Equal(expected.Average(d => CliRunner.Number(d!["acc_norm"])), CliRunner.Number(report["acc_norm"]), 12);
    }

    [Fact]
    public void Predictions_take_the_first_of_equals_and_count_characters_as_python_does()
    {
        var document = new MultipleChoiceDocument("d", "c", ["ab", "\U0001F600", "abcd"], 1);
        Assert.Equal((0, 0), document.Predict([-2.0, -2.0, -4.0])); // the first of equals: -2 against -2, and -1 per character against -2 and -1
        Assert.Equal((1, 0), document.Predict([-2.0, -1.5, -8.0])); // one code point (two UTF-16 chars): -1.5 per character, below -1
        Assert.Throws<ArgumentException>(() => document.Predict([-1.0]));
        Assert.Throws<ArgumentException>(() => new MultipleChoiceDocument("d", "c", ["a", ""], 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultipleChoiceDocument("d", "c", ["a", "b"], 2).Validate());
        Assert.Equal(["c", "c"], document.Requests().Take(2).Select(r => r.Context));
        Assert.Equal([" ab", "\n\U0001F600"], new[] { document.Requests().First().Continuation, document.Requests("\n").ElementAt(1).Continuation });
        var winogrande = new MultipleChoiceDocument("w", "", ["It is", "They are"], 0) { SharedContinuation = "big." };
        Assert.Equal([("It is", " big."), ("They are", " big.")], winogrande.Requests().Select(r => (r.Context, r.Continuation)));
    }

    [Fact]
    public void The_mass_on_true_choices_is_truthfulqa_mc2s_renormalised_likelihood()
    {
        var random = new Random(Environment.TickCount);
        for (int round = 0; round < 50; round++)
        {
            int n = random.Next(1, 9);
            bool[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(2) == 0)];
            double[] lls = [.. Enumerable.Range(0, n).Select(_ => -random.NextDouble() * 60)];
            var document = new MultipleChoiceDocument("d", "q", [.. Enumerable.Range(0, n).Select(i => $"c{i}")], 0) { Labels = labels };
            // process_results_mc2: probs = exp(ll); probs / sum(probs); the sum over the true labels.
            double expected = lls.Select((ll, i) => labels[i] ? Math.Exp(ll) : 0).Sum() / lls.Sum(Math.Exp);
            Assert.Equal(expected, document.TrueMass(lls), 1e-13);
        }

        var three = new MultipleChoiceDocument("d", "q", ["a", "b", "c"], 0) { Labels = [true, false, true] };
        Assert.Equal(1.0, three.TrueMass([-1.0, double.NegativeInfinity, -3.0]));
        Assert.Equal(0.0, three.TrueMass([double.NegativeInfinity, -2.0, double.NegativeInfinity]));
        Assert.True(double.IsNaN(three.TrueMass([double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity])));
        Assert.Equal((1 + Math.Exp(-2)) / (1 + Math.Exp(-1) + Math.Exp(-2)), three.TrueMass([-900.0, -901.0, -902.0]), 1e-15); // below a double's exp: the harness's 0/0, a figure here
        Assert.Throws<ArgumentException>(() => three.TrueMass([-1.0]));
        Assert.Throws<InvalidOperationException>(() => new MultipleChoiceDocument("d", "q", ["a"], 0).TrueMass([-1.0]));
        Assert.Contains("2 labels of true choices for 3 choices", Assert.Throws<ArgumentException>(() => (three with { Labels = [true, false] }).Validate()).Message);
    }

    [Fact]
    public void Documents_with_labels_of_their_true_choices_score_as_their_samples()
    {
        // The truthfulqa_mc2 samples' documents as a .jsonl of fields: the same requests, the same masses.
        string samples = ModelFiles.Path("samples_truthfulqa_mc2.jsonl");
        var logged = File.ReadAllLines(samples).Select(l => JsonNode.Parse(l)!).ToArray();
        using var dir = new TempDir();
        string file = dir.File("mc2.jsonl"), perDocument = dir.File("lines.jsonl");
        File.WriteAllLines(file, logged.Select(d => new JsonObject
        {
            ["question"] = (string)d["doc"]!["question"]!,
            ["choices"] = d["doc"]!["mc2_targets"]!["choices"]!.DeepClone(),
            ["labels"] = d["doc"]!["mc2_targets"]!["labels"]!.DeepClone(),
        }.ToJsonString()));
        var report = CliRunner.Json("loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", file, "--text-field", "question",
            "--choices-field", "choices", "--labels-field", "labels", "--prefix-token", "7", "--context", "64", "--device", "cpu", "--per-document", perDocument);
        var lines = File.ReadAllLines(perDocument).Select(l => JsonNode.Parse(l)!).ToArray();
        for (int d = 0; d < logged.Length; d++)
        {
            Assert.Equal(CliRunner.Number(logged[d]["acc"]), CliRunner.Number(lines[d]["acc"]), 5);
            Assert.Equal(logged[d]["doc"]!["mc2_targets"]!["labels"]!.ToJsonString(), lines[d]["labels"]!.ToJsonString());
        }

        Assert.Equal(logged.Average(d => CliRunner.Number(d["acc"])), CliRunner.Number(report["acc"]), 5);
        Assert.Contains("true choices labels", (string)report["task"]!);
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", file, "--text-field", "question", "--choices-field", "choices", "--device", "cpu"];
        CliRunner.Fails(2, ["--gold-field: with --labels-field"], [.. run, "--labels-field", "labels", "--gold-field", "g"]);
        CliRunner.Fails(2, ["--labels-field: give the field"], [.. run, "--labels-field", ""]);
        CliRunner.Fails(3, ["mc2.jsonl:1", "has no \"truth\" (--labels-field names it)"], [.. run, "--labels-field", "truth"]);
        File.WriteAllLines(file, ["""{"question": "Q", "choices": ["a", "b"], "labels": [1, 0, 1]}"""]);
        CliRunner.Fails(3, ["mc2.jsonl:1", "3 labels of true choices for 2 choices"], [.. run, "--labels-field", "labels"]);
        File.WriteAllLines(file, ["""{"question": "Q", "choices": ["a", "b"], "labels": [1, "0"]}"""]);
        CliRunner.Fails(3, ["mc2.jsonl:1", "\"labels\" is [1, \"0\"], not an array of labels 0 or 1"], [.. run, "--labels-field", "labels"]);
    }

    private static bool IsGreedy(TextTokenizer tokenizer, (string Context, string Continuation) request, int prefix)
    {
        var (context, continuation) = EncodePair(tokenizer, request.Context, request.Continuation, prefix);
        int[] ids = [.. context, .. continuation];
        return Enumerable.Range(context.Length, continuation.Length).All(t => Enumerable.Range(0, ModelFiles.Vocab).MaxBy(j => BigramClosedForm.Logit(ids[t - 1], j)) == ids[t]);
    }

    [Fact]
    public void A_cut_context_is_the_last_tokens_before_the_continuation_as_a_window_of_its_own()
    {
        // window.onnx reads its whole window: a request longer than the context scores as its last context + 1 tokens alone.
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        string passage = string.Join(' ', Words.Take(40));
        var encoded = LoglikelihoodRequests.Encode(tokenizer, [LoglikelihoodRequest.LastWord("p", passage), new("q", "The model", " reads a window")], null, "requests");
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("window.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        const int Context = 24;
        var losses = Losses(engine, model, encoded, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = Context, Batch = 2 });
        var windows = ModelRowSource.WindowsOf(encoded, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = Context });
        for (int d = 0; d < 2; d++)
        {
            var ids = encoded.Document(d).ToArray();
            int m = encoded.Continuations![d];
            int[] window = ids[Math.Max(0, ids.Length - (Context + 1))..];
            Assert.Equal(d == 0, ids.Length > Context + 1);
            var alone = new TokenizedText(window, null, "window", "test");
            var slid = Losses(engine, model, alone, new ModelWindowOptions { Context = window.Length, Stride = window.Length });
            long first = windows.DocumentFirstRow(d);
            for (int j = 0; j < m; j++)
            {
                Assert.Equal(slid[^(m - j)], losses[(int)first + j], 1e-5f);
            }
        }
    }

    [Fact]
    public void Bad_requests_are_one_line_errors_naming_the_file()
    {
        using var dir = new TempDir();
        string pairs = Path.Combine(dir.Path, "pairs.jsonl"), text = Path.Combine(dir.Path, "plain.txt");
        File.WriteAllLines(pairs, ["""{"context": "The model", "continuation": " reads a window of tokens"}""", """{"context": "The model"}"""]);
        File.WriteAllText(text, "The model reads");
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--device", "cpu"];
        CliRunner.Fails(3, [pairs, "line 2 has no \"continuation\" field (--continuation-field names it)"], [.. run, "--text", pairs, "--text-field", "context", "--continuation-field", "continuation"]);
        File.WriteAllLines(pairs, ["""{"context": "The model", "continuation": " reads a window of tokens"}"""]);
        CliRunner.Fails(3, [$"{pairs}:1", "more than --context 4"], [.. run, "--text", pairs, "--text-field", "context", "--continuation-field", "continuation", "--context", "4"]);
        CliRunner.Fails(2, ["--continuation-field", text, "not a .jsonl or .parquet"], [.. run, "--text", text, "--continuation-field", "continuation"]);
        CliRunner.Fails(2, ["two options name the field 'context'"], [.. run, "--text", pairs, "--text-field", "context", "--continuation-field", "context"]);
        string word = Path.Combine(dir.Path, "one.txt");
        File.WriteAllText(word, "model");
        CliRunner.Fails(3, [word, "empty context", "--prefix-token"], [.. run, "--text", word]);
        Assert.Equal(1, (int)CliRunner.Json([.. run, "--text", word, "--prefix-token", "3"])["requests"]!);
    }

    [Theory]
    [InlineData("""{"q": "The model"}""", "no \"choices\" field (--choices-field names it)")]
    [InlineData("""{"q": "The model", "choices": "reads"}""", "\"choices\" is a JSON string, not an array of strings")]
    [InlineData("""{"q": "The model", "choices": ["reads", 3], "gold": 0}""", "\"choices\"[1] is a JSON number, not a string")]
    [InlineData("""{"q": "The model", "choices": ["reads", "runs"]}""", "no \"gold\" field (--gold-field names it)")]
    [InlineData("""{"q": "The model", "choices": ["reads", "runs"], "gold": "1"}""", "none of its 2 choices (a gold that is a choice's index is a JSON number")]
    [InlineData("""{"q": "The model", "choices": ["reads", "runs"], "gold": 2}""", "the gold choice must be 0 to 1")]
    [InlineData("""{"q": "The model", "choices": ["reads", ""], "gold": 0}""", "choice 1 is empty")]
    [InlineData("""{"q": 5, "choices": ["reads"], "gold": 0}""", "\"q\" is a JSON number, not a string")]
    public void Bad_multiple_choice_documents_are_one_line_errors_naming_the_line(string line, string problem)
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "mc.jsonl");
        File.WriteAllLines(file, ["""{"q": "The", "choices": ["model", "window"], "gold": "window"}""", line]);
        CliRunner.Fails(3, [$"{file}:2", problem], "loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--device", "cpu",
            "--text", file, "--text-field", "q", "--choices-field", "choices");
    }

    [Fact]
    public void Options_of_another_kind_of_document_are_usage_errors()
    {
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.Path("documents.jsonl")];
        CliRunner.Fails(2, ["--gold-field applies to multiple-choice documents"], [.. run, "--gold-field", "label"]);
        CliRunner.Fails(2, ["--target-delimiter applies to multiple-choice documents"], [.. run, "--target-delimiter", ""]);
        CliRunner.Fails(2, ["--labels-field applies to multiple-choice documents"], [.. run, "--labels-field", "labels"]);
        CliRunner.Fails(2, ["--labels-field: with --continuation-field each choice is a context"], [.. run, "--choices-field", "c", "--continuation-field", "x", "--labels-field", "l"]);
        CliRunner.Fails(2, ["--text-field: with --choices-field and --continuation-field each choice is a context"], [.. run, "--choices-field", "c", "--continuation-field", "x", "--text-field", "q"]);
        CliRunner.Fails(2, ["--choices-field reads a JSON array of each line", "x.parquet is not a .jsonl file"], ["loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", "x.parquet", "--choices-field", "c"]);
        CliRunner.Fails(2, ["--bootstrap-iters 1: give 0 (no perplexity_stderr) or at least 2 resamples"], [.. run, "--bootstrap-iters", "1"]);
        CliRunner.Fails(2, ["--bootstrap-iters -5"], [.. run, "--bootstrap-iters", "-5"]);
    }

    [Fact]
    public void No_resamples_leave_no_perplexity_stderr()
    {
        var report = CliRunner.Json("loglikelihood", "--model", ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.Path("documents.jsonl"),
            "--prefix-token", "7", "--device", "cpu", "--bootstrap-iters", "0");
        Assert.True(report.ContainsKey("perplexity_stderr"));
        Assert.Null(report["perplexity_stderr"]);
        Assert.NotNull(report["perplexity"]);
    }

    [Theory]
    [InlineData("lambada")]
    [InlineData("choices")]
    [InlineData("winogrande")]
    [InlineData("truthfulqa_mc2")]
    public void The_harness_logged_samples_score_beside_the_harness_own_scores(string task)
    {
        // make_loglikelihood_reference.py: the harness's own requests, scores and per-sample metrics, written by its EvaluationTracker.
        string samples = ModelFiles.Path($"samples_{task}.jsonl");
        using var dir = new TempDir();
        string perDocument = Path.Combine(dir.Path, "documents.jsonl");
        string[] labels = task == "truthfulqa_mc2" ? ["--labels-field", "doc.mc2_targets.labels"] : [];
        var report = CliRunner.Json(["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--samples", samples,
            "--prefix-token", "7", "--context", "64", "--batch", "2", "--per-document", perDocument, "--device", "cpu", .. labels]);
        var logged = File.ReadAllLines(samples).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.True(CliRunner.Number(report["loglikelihood_max_abs_diff"]) < 1e-4, $"{report["loglikelihood_max_abs_diff"]}: window.onnx in float32 against the harness's float64 scores");
        Assert.Equal(1.0, CliRunner.Number(report["same_is_greedy"]));
        Assert.Equal(logged.Average(d => CliRunner.Number(d["acc"])), CliRunner.Number(report["harness_acc"]), 12);
        if (task == "truthfulqa_mc2")
        {
            // acc is the mean probability mass on the true choices (the harness's process_results_mc2), not a share of right predictions.
            Assert.Equal(CliRunner.Number(report["harness_acc"]), CliRunner.Number(report["acc"]), 5);
            Assert.Contains(logged, d => CliRunner.Number(d["acc"]) is > 0.01 and < 0.99);
            Assert.False(report.ContainsKey("acc_norm"));
            Assert.Equal(1.0, CliRunner.Number(report["same_prediction"]));
            var masses = File.ReadAllLines(perDocument).Select(l => CliRunner.Number(JsonNode.Parse(l)!["acc"])).ToArray();
            Assert.All(masses.Zip(logged), p => Assert.Equal(CliRunner.Number(p.Second["acc"]), p.First, 5));
            CliRunner.Fails(3, ["samples_truthfulqa_mc2.jsonl:1", "give --labels-field doc.mc2_targets.labels"], "loglikelihood", "--model", ModelFiles.Path("window.onnx"),
                "--tokenizer", ModelFiles.VocabJson, "--samples", samples, "--prefix-token", "7", "--context", "64", "--device", "cpu");
            return;
        }

        Assert.Equal(CliRunner.Number(report["harness_acc"]), CliRunner.Number(report["acc"]));
        if (task == "choices")
        {
            Assert.Equal(logged.Average(d => CliRunner.Number(d["acc_norm"])), CliRunner.Number(report["harness_acc_norm"]), 12);
            Assert.Equal(CliRunner.Number(report["harness_acc_norm"]), CliRunner.Number(report["acc_norm"]));
            Assert.Equal(1.0, CliRunner.Number(report["same_prediction"]));
            Assert.Equal(logged.Length, (int)report["documents"]!);
        }
        else if (task == "winogrande")
        {
            // The log leaves a multiple_input task's gold out: each document's is recovered from its logged acc, and is the document's own.
            Assert.Equal(1.0, CliRunner.Number(report["same_prediction"]));
            Assert.Equal(logged.Length, (int)report["documents"]!);
            var golds = File.ReadAllLines(perDocument).Select(l => (int)JsonNode.Parse(l)!["gold"]!).ToArray();
            Assert.Equal(logged.Select(d => (int)d["doc"]!["gold"]!).ToArray(), golds);
            Assert.Contains(logged, d => CliRunner.Number(d["acc"]) == 0);
            Assert.Contains(logged, d => CliRunner.Number(d["acc"]) == 1);
        }
        else
        {
            // The harness's per-sample "perplexity" is the log-likelihood; its aggregation, exp of minus the mean.
            double perplexity = Math.Exp(-logged.Average(d => CliRunner.Number(d["perplexity"])));
            Assert.Equal(perplexity, CliRunner.Number(report["harness_perplexity"]), perplexity * 1e-12);
            Assert.Equal(perplexity, CliRunner.Number(report["perplexity"]), perplexity * 1e-5);

            // The logged log-likelihoods are the reference's at max_length 64, so their bootstrap is the harness's own perplexity_stderr of them.
            var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
            double stderr = CliRunner.Number(reference["bootstrap"]!["cases"]!.AsArray().Single(c => (string)c!["name"]! == "lambada/64")!["perplexity_stderr"]);
            Assert.Equal(stderr, CliRunner.Number(report["harness_perplexity_stderr"]), stderr * 1e-12);
            Assert.Equal(stderr, CliRunner.Number(report["perplexity_stderr"]), stderr * 1e-5);
        }

        var lines = File.ReadAllLines(perDocument).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(logged.Length, lines.Length);
        Assert.All(lines, line => Assert.NotNull(line[task == "lambada" ? "harness_loglikelihood" : "harness_loglikelihoods"]));
    }

    [Fact]
    public void Samples_of_several_tasks_report_each_task_beside_the_whole()
    {
        // MMLU logs a file per subject: the whole over every document, and each file's own figures.
        using var dir = new TempDir();
        string other = dir.File("samples_mmlu_anatomy_2026-12-07T10-11-12.123456.jsonl");
        File.Copy(ModelFiles.Path("samples_paired_base_choices.jsonl"), other);
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--prefix-token", "7", "--context", "64", "--device", "cpu", "--bootstrap-iters", "0", "--json", "--samples"];
        var both = CliRunner.Json([.. run, ModelFiles.Path("samples_choices.jsonl"), other]);
        var first = CliRunner.Json([.. run, ModelFiles.Path("samples_choices.jsonl")]);
        var second = CliRunner.Json([.. run, other]);
        var tasks = both["tasks"]!.AsArray();
        Assert.Equal(["samples_choices", "mmlu_anatomy"], tasks.Select(t => (string)t!["task"]!).ToArray());
        foreach (var (alone, entry) in new[] { (first, tasks[0]!), (second, tasks[1]!) })
        {
            foreach (string key in new[] { "documents", "requests", "acc", "acc_stderr", "acc_norm", "harness_acc", "acc_diff", "right_to_wrong", "mcnemar_p", "loglikelihood_max_abs_diff" })
            {
                Assert.True(JsonNode.DeepEquals(alone[key], entry[key]), $"{key}: {alone[key]?.ToJsonString()} alone, {entry[key]?.ToJsonString()} as a task");
            }
        }

        int documents = (int)first["documents"]! + (int)second["documents"]!;
        Assert.Equal(documents, (int)both["documents"]!);
        Assert.Equal(((CliRunner.Number(first["acc"]) * (int)first["documents"]!) + (CliRunner.Number(second["acc"]) * (int)second["documents"]!)) / documents, CliRunner.Number(both["acc"]), 12);
        Assert.Null(first["tasks"]);
    }

    [Theory]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The model reads"}}, "filtered_resps": [["-1.5", "False"]], "metrics": ["word_perplexity"]}""", "loglikelihood_rolling task's document")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": {"until": ["\n"]}}}, "filtered_resps": ["x"], "metrics": ["exact_match"]}""", "compare two runs of a generate_until task with gpuinfo compare-samples")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": {"until": ["\n"]}}}, "filtered_resps": ["x"]}""", "not a (context, continuation) request")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_1": {"arg_0": "The", "arg_1": " model"}}, "filtered_resps": [["-1", "False"]]}""", "no \"gen_args_0\"")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}}, "filtered_resps": [["-1"]]}""", "\"filtered_resps\"[0] is [\"-1\"], not a [log-likelihood, is_greedy] pair")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}}}""", "has no \"filtered_resps\"")]
    [InlineData("""{"doc_id": 0, "target": "7", "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}, "gen_args_1": {"arg_0": "The", "arg_1": " window"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "the gold choice must be 0 to 1")]
    [InlineData("""{"doc_id": 0, "target": "cat", "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}, "gen_args_1": {"arg_0": "The", "arg_1": " window"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "neither a choice's index nor one of its 2 choices")]
    [InlineData("""{"doc_id": 0, "target": "0", "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": "model"}, "gen_args_1": {"arg_0": "The", "arg_1": " window"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "does not begin with the target delimiter ' '")]
    [InlineData("""{"doc_id": 0, "target": "0", "arguments": {"gen_args_0": {"arg_0": "A", "arg_1": " model"}, "gen_args_1": {"arg_0": "B", "arg_1": " model"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "\"acc\" is missing or not a number, not 0 or 1, to recover it from")]
    [InlineData("""{"doc_id": 0, "target": "model", "arguments": {"gen_args_0": {"arg_0": "A", "arg_1": " model"}, "gen_args_1": {"arg_0": "B", "arg_1": " model"}, "gen_args_2": {"arg_0": "C", "arg_1": " model"}}, "filtered_resps": [["-1", "False"], ["-2", "False"], ["-3", "False"]], "acc": 0.0}""", "of 3 choices, whose gold the log leaves out")]
    [InlineData("""{"doc_id": 0, "target": "model", "arguments": {"gen_args_0": {"arg_0": "A", "arg_1": " model"}, "gen_args_1": {"arg_0": "B", "arg_1": " window"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "acc": 1.0}""", "neither a multiple_choice task's (one context) nor a multiple_input one's")]
    [InlineData("""{"doc_id": 1, "target": "0", "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}, "gen_args_1": {"arg_0": "The", "arg_1": " window"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "give one task's samples at a time")]
    [InlineData("""{"doc_id": 0, "target": 0, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_1": {"arg_0": "Q", "arg_1": " no"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "metrics": ["acc"], "acc": 0.7310585786300049}""", "logs acc 0.7310585786300049, where its log-likelihoods and gold give 1")]
    [InlineData("""{"doc_id": 0, "target": 1, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_1": {"arg_0": "Q", "arg_1": " no"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "acc": 0.0, "acc_norm": 1.0}""", "logs acc_norm 1.0, where its log-likelihoods and gold give 0")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}}, "filtered_resps": [["-1", "False"]], "acc": 1}""", "logs acc 1, where its log-likelihoods give 0")]
    [InlineData("""{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}}, "filtered_resps": [["-1", "True"]], "acc": 1, "perplexity": -2.5}""", "logs perplexity -2.5, where its log-likelihoods give -1")]
    [InlineData("""{"doc_id": 0, "target": 0, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_1": {"arg_0": "Q", "arg_1": " no"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "acc": 1.0, "f1": [0, 1]}""", "logs f1 [0, 1], where its gold and log-likelihoods give [0, 0] (gold, prediction)")]
    [InlineData("""{"doc_id": 0, "target": 1, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " y\u00e9s"}, "gen_args_1": {"arg_0": "Q", "arg_1": " nos"}}, "filtered_resps": [["-3.2", "False"], ["-3", "False"]], "acc": 1.0, "acc_bytes": 1.0}""", "logs acc_bytes 1.0, where its log-likelihoods and gold give 0")]
    public void Bad_samples_are_one_line_errors_naming_the_line(string line, string problem)
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "samples_x.jsonl");
        // The second document of the file: another doc_id than the first line's 0.
        File.WriteAllLines(file, [File.ReadLines(ModelFiles.Path("samples_lambada.jsonl")).First(), line.Replace("\"doc_id\": 0,", "\"doc_id\": 99,", StringComparison.Ordinal)]);
        CliRunner.Fails(3, [$"{file}:2", problem], "loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--prefix-token", "7", "--context", "64", "--device", "cpu", "--samples", file);
    }

    [Theory]
    [InlineData(0, """{"doc_id": 0, "target": 0, "doc": {"mc2_targets": {"labels": [1, 0]}}, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_1": {"arg_0": "Q", "arg_1": " no"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "acc": 0.5}""", "where its log-likelihoods give a probability mass of 0.7310585786300049 on the true choices its labels name")]
    [InlineData(0, """{"doc_id": 0, "target": 0, "doc": {}, "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_1": {"arg_0": "Q", "arg_1": " no"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]]}""", "has no \"doc.mc2_targets.labels\" (--labels-field names it)")]
    [InlineData(0, """{"doc_id": 0, "target": "x", "arguments": {"gen_args_0": {"arg_0": "A", "arg_1": " x"}, "gen_args_1": {"arg_0": "B", "arg_1": " x"}}, "filtered_resps": [["-1", "False"], ["-2", "False"]], "acc": 1.0}""", "a multiple_input task's document (its choices are contexts) is scored by its gold alone")]
    [InlineData(1, """{"doc_id": 0, "arguments": {"gen_args_0": {"arg_0": "The", "arg_1": " model"}}, "filtered_resps": [["-1", "False"]]}""", "a document of one request (a loglikelihood task's) has no choices to label")]
    public void Bad_labelled_samples_are_one_line_errors_naming_the_line(int line, string text, string problem)
    {
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "samples_x.jsonl");
        File.WriteAllLines(file, line == 0 ? [text] : [text, text]);
        CliRunner.Fails(3, [$"{file}:1", problem], "loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--prefix-token", "7", "--context", "64", "--device", "cpu",
            "--samples", file, "--labels-field", "doc.mc2_targets.labels");
    }

    [Fact]
    public void A_base_model_scores_the_same_requests_as_it_alone_would()
    {
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "choices.jsonl"), alone = Path.Combine(dir.Path, "alone.jsonl"), both = Path.Combine(dir.Path, "both.jsonl");
        File.WriteAllLines(file, reference["choices"]!.AsArray().Select(d => d!.ToJsonString()));
        string[] run = ["loglikelihood", "--tokenizer", ModelFiles.VocabJson, "--text", file, "--text-field", "context", "--choices-field", "choices", "--prefix-token", "7", "--context", "64", "--device", "cpu"];
        var bigram = CliRunner.Json([.. run, "--model", ModelFiles.Path("bigram.onnx"), "--per-document", alone]);
        var compared = CliRunner.Json([.. run, "--model", ModelFiles.Path("window.onnx"), "--base", ModelFiles.Path("bigram.onnx"), "--per-document", both]);
        Assert.Equal(CliRunner.Number(bigram["acc"]), CliRunner.Number(compared["base_acc"]));
        Assert.Equal(CliRunner.Number(bigram["acc_norm"]), CliRunner.Number(compared["base_acc_norm"]));
        var alones = File.ReadAllLines(alone).Select(l => JsonNode.Parse(l)!).ToArray();
        var boths = File.ReadAllLines(both).Select(l => JsonNode.Parse(l)!).ToArray();
        for (int d = 0; d < alones.Length; d++)
        {
            Assert.Equal(alones[d]["loglikelihoods"]!.ToJsonString(), boths[d]["base_loglikelihoods"]!.ToJsonString());
        }

        var self = CliRunner.Json([.. run, "--model", ModelFiles.Path("window.onnx"), "--base", ModelFiles.Path("window.onnx")]);
        Assert.Equal(0.0, CliRunner.Number(self["loglikelihood_max_abs_diff"]));
        Assert.Equal(1.0, CliRunner.Number(self["same_prediction"]));
        Assert.True(CliRunner.Number(compared["loglikelihood_max_abs_diff"]) > 1, "bigram.onnx and window.onnx are other models");
        CliRunner.Fails(2, ["--base: --samples already holds the scores"], "loglikelihood", "--tokenizer", ModelFiles.VocabJson, "--model", ModelFiles.Path("window.onnx"),
            "--base", ModelFiles.Path("window.onnx"), "--samples", ModelFiles.Path("samples_lambada.jsonl"));
    }

    [Fact]
    public void Samples_or_text_one_of_them()
    {
        string[] run = ["loglikelihood", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson];
        string samples = ModelFiles.Path("samples_lambada.jsonl");
        CliRunner.Fails(2, ["give --text", "--samples", "--hellaswag, --multiple-choice or --winogrande", "one of them"], run);
        CliRunner.Fails(2, ["give --text", "--samples", "one of them"], [.. run, "--samples", samples, "--text", samples]);
        CliRunner.Fails(2, ["--text-field applies to --text"], [.. run, "--samples", samples, "--text-field", "q"]);
        CliRunner.Fails(2, ["--choices-field applies to --text"], [.. run, "--samples", samples, "--choices-field", "c"]);
    }

    [Fact]
    public void Scores_are_of_request_windows_only()
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var sliding = new ModelRowSource(model, ModelFiles.Sample(), new ModelWindowOptions { Context = 16, Stride = 8 });
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => LoglikelihoodScores.Run([engine], sliding)).ParamName);
        var text = LoglikelihoodRequests.Encode(TokenizerCatalog.Load(ModelFiles.VocabJson), [new("r", "The model", " reads")], null, "r");
        using var requests = new ModelRowSource(model, text, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 16 });
        var scores = LoglikelihoodScores.Run([engine], requests);
        Assert.Equal(scores.ContinuationTokens(0), scores.Tokens);
        Assert.Throws<ArgumentOutOfRangeException>(() => scores.LogLikelihood(1));
    }

    [Theory]
    [InlineData("window.onnx", 1)]
    [InlineData("window.onnx", 3)]
    [InlineData("bigram.onnx", 2)]
    [InlineData("bigram_keep.onnx", 1)]
    [InlineData("bigram_keep.onnx", 4)]
    public void Requests_that_feed_the_model_the_same_tokens_run_once_and_score_as_alone(string modelFile, int batch)
    {
        // Multiple-choice questions with one-token answers (MMLU's " A" ... " D"): the harness runs one forward pass per
        // question (its Collator's group_by="contexts"); so does this, each request scored as it would be alone.
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        var random = new Random(Environment.TickCount);
        string[] words = ["The", "model", "reads", "a", "window", "of", "tokens", "and", "scores", "each"];
        var requests = new List<LoglikelihoodRequest>();
        int questions = 0;
        for (int q = 0; q < 9; q++)
        {
            string context = string.Join(' ', Enumerable.Range(0, random.Next(2, 12)).Select(_ => words[random.Next(words.Length)])) + "\nAnswer:";
            string[] answers = q % 3 == 2 ? [" reads a", " model"] : [" A", " B", " C", " D"]; // every third question with a two-token answer
            requests.AddRange(answers.Select((a, i) => new LoglikelihoodRequest($"q{q}.{i}", context, a)));
            questions++;
        }

        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        using var model = OnnxLanguageModel.Open(ModelFiles.Path(modelFile), new OnnxModelOptions { ExecutionProvider = "cpu" });
        var options = new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 64, Batch = batch };
        using var together = new ModelRowSource(model, LoglikelihoodRequests.Encode(tokenizer, requests, 7, "r"), options);
        var scores = LoglikelihoodScores.Run([engine], together);
        var oneTokenAnswers = requests.Where((r, i) => LoglikelihoodRequests.Split(tokenizer, r, 7).Continuation.Length == 1).Count();
        Assert.True(together.WindowsRun < requests.Count, $"{together.WindowsRun} windows run for {requests.Count} requests");
        Assert.True(together.WindowsRun <= requests.Count - oneTokenAnswers + questions, $"{together.WindowsRun} windows run; {oneTokenAnswers} one-token answers of {questions} questions");
        for (int d = 0; d < requests.Count; d++)
        {
            using var alone = new ModelRowSource(model, LoglikelihoodRequests.Encode(tokenizer, [requests[d]], 7, "r"), options with { Batch = 1 });
            var own = LoglikelihoodScores.Run([engine], alone);
            Assert.Equal(1, alone.WindowsRun);
            Assert.Equal(own.LogLikelihood(0), scores.LogLikelihood(d), 5);
            Assert.Equal(own.IsGreedy(0), scores.IsGreedy(d));
        }
    }

    [Fact]
    public void A_comparison_refuses_a_top_1_handler()
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var logits = new float[2 * 3];
        using var a = MemoryRowSource.Float32(logits, 3);
        using var b = MemoryRowSource.Float32(logits, 3);
        var e = Assert.Throws<ArgumentException>(() => CorpusRun.Compare(engine, a, b, run: new CorpusRunOptions { PerRowArgMax = (_, _) => { } }));
        Assert.Equal("run", e.ParamName);
    }

    private static float[] Losses(InfoEngine engine, OnnxLanguageModel model, TokenizedText text, ModelWindowOptions options)
    {
        using var source = new ModelRowSource(model, text, options);
        var losses = new float[source.Rows];
        CorpusRun.Evaluate(engine, source, run: new CorpusRunOptions { PerRow = (first, values) => values.CopyTo(losses.AsSpan((int)first)) });
        return losses;
    }

    private static void AssertSplit(int[] context, int[] continuation, (int[] Context, int[] Continuation) split)
    {
        Assert.Equal(context, split.Context);
        Assert.Equal(continuation, split.Continuation);
    }
}

/// <summary>
/// lm-evaluation-harness's reference requests (make_loglikelihood_reference.py) measured on an ILGPU accelerator
/// (<see cref="LoglikelihoodScores.Run"/>): the loss and top-1 class of each continuation token from the device's fused
/// pass (<see cref="CorpusRunOptions.PerRowArgMax"/>), summed into each request's log-likelihood and is_greedy, against
/// the harness's float64 scores.
/// </summary>
public abstract class LoglikelihoodDeviceTests(EngineFixture fixture)
{
    [Theory]
    [InlineData("lambada")]
    [InlineData("pairs")]
    [InlineData("choices")]
    [InlineData("multiple_input")]
    public void Requests_score_on_the_device_as_the_harness_scores_them(string kind)
    {
        var engine = fixture.Engine;
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!;
        var requests = kind switch
        {
            "lambada" => reference["passages"]!.AsArray().Select((p, i) => LoglikelihoodRequest.LastWord($"p{i}", (string)p!)).ToList(),
            "pairs" => reference["pairs"]!.AsArray().Select((p, i) => new LoglikelihoodRequest($"r{i}", (string)p![0]!, (string)p[1]!)).ToList(),
            _ => reference[kind]!.AsArray().SelectMany((d, i) => new MultipleChoiceDocument($"d{i}", kind == "choices" ? (string)d!["context"]! : "",
                d!["choices"]!.AsArray().Select(c => (string)c!).ToList(), 0) { SharedContinuation = kind == "choices" ? null : (string)d["continuation"]! }.Requests()).ToList(),
        };
        var expected = reference["results"]![$"{kind}/64"]!.AsArray()
            .SelectMany(r => kind is "lambada" or "pairs" ? [(CliRunner.Number(r!["loglikelihood"]), (bool)r["is_greedy"]!)]
                : r!["loglikelihoods"]!.AsArray().Zip(r["is_greedy"]!.AsArray(), (ll, g) => (CliRunner.Number(ll), (bool)g!))).ToList();
        var text = LoglikelihoodRequests.Encode(TokenizerCatalog.Load(ModelFiles.VocabJson), requests, reference["prefix"]!.GetValue<int>(), kind);
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("window.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 64, Batch = 3 });
        var scores = LoglikelihoodScores.Run([engine], source);
        var loglikelihood = Enumerable.Range(0, scores.Requests).Select(scores.LogLikelihood).ToArray();
        var greedy = Enumerable.Range(0, scores.Requests).Select(scores.IsGreedy).ToArray();
        Assert.Equal(expected.Count, requests.Count);
        for (int r = 0; r < requests.Count; r++)
        {
            Assert.True(Math.Abs(loglikelihood[r] - expected[r].Item1) <= 1e-5 * Math.Abs(expected[r].Item1) + 1e-5, $"{fixture.Device}, {kind} request {r}: {loglikelihood[r]} against the harness's {expected[r].Item1}");
            Assert.Equal(expected[r].Item2, greedy[r]);
        }
    }
}

public sealed class IlgpuCpuLoglikelihoodTests(IlgpuCpuFixture f) : LoglikelihoodDeviceTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaLoglikelihoodTests(CudaFixture f) : LoglikelihoodDeviceTests(f), IClassFixture<CudaFixture>;
