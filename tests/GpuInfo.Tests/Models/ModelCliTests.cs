using GpuInfo.Cli;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>perplexity and compare-models from the command line: shards and merge, ids files, and compare's report.</summary>
public sealed class ModelCliTests
{
    private static string[] Text => ["--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--context", "32", "--stride", "8", "--device", "cpu"];

    [Fact]
    public void Shards_through_partials_merge_to_the_one_run_report()
    {
        using var dir = new TempDir();
        var one = CliRunner.Json(["perplexity", "--model", ModelFiles.Path("window.onnx"), .. Text, "--batch", "2"]);
        for (int i = 0; i < 3; i++)
        {
            var part = CliRunner.Json(["perplexity", "--model", ModelFiles.Path("window.onnx"), .. Text, "--shard", $"{i}/3", "--partial-dir", dir.Path]);
            Assert.Equal($"{i}/3", part["shard"]!.GetValue<string>());
        }

        var merged = CliRunner.Json("merge", dir.Path);
        foreach (string key in new[] { "tokens", "mean_nll", "mean_nll_se", "perplexity", "mean_entropy", "top1_accuracy", "bits_per_byte", "byte_perplexity", "word_perplexity" })
        {
            Assert.Equal(one[key]!.ToJsonString(), merged[key]!.ToJsonString());
        }

        Assert.Equal(244, one["tokens"]!.GetValue<long>());
        Assert.Equal(28, one["windows"]!.GetValue<int>());
        foreach (string key in new[] { "tokens_per_second", "model_seconds", "tokenize_seconds", "other_seconds", "outside_model_fraction", "provider" })
        {
            Assert.NotNull(one[key]);
        }
    }

    /// <summary>
    /// Two models of one architecture with their weights in external data share the graph file byte
    /// for byte: the partials fingerprint the data file too, so their shards do not merge.
    /// </summary>
    [Fact]
    public void Shards_of_two_models_that_differ_only_in_their_external_data_do_not_merge()
    {
        using var dir = new TempDir();
        string a = ModelFiles.Path("external_a/window.onnx"), b = ModelFiles.Path("external_b/window.onnx");
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        foreach (var (model, part) in new[] { (a, "0"), (a, "1"), (a, "2"), (b, "2") })
        {
            CliRunner.Json(["perplexity", "--model", model, .. Text, "--shard", $"{part}/3", "--partial", dir.File($"{part}-{(model == a ? "a" : "b")}.json")]);
        }

        var merged = CliRunner.Json("merge", dir.File("0-a.json"), dir.File("1-a.json"), dir.File("2-a.json"));
        Assert.Equal(CliRunner.Json(["perplexity", "--model", a, .. Text])["mean_nll"]!.ToJsonString(), merged["mean_nll"]!.ToJsonString());
        var (code, _, stderr) = CliRunner.Run("merge", dir.File("0-a.json"), dir.File("1-a.json"), dir.File("2-b.json"));
        Assert.Equal(ExitCode.BadData, code);
        Assert.Contains($"its model-data file {Path.Combine(Path.GetDirectoryName(b)!, "window.onnx_data")}", stderr, StringComparison.Ordinal);
    }

    /// <summary>--temperature divides the logits: perplexity's NLL is the closed form's at T, and compare-models' base perplexity is perplexity's at the same T.</summary>
    [Fact]
    public void The_temperature_divides_the_logits_of_perplexity_and_compare_models()
    {
        string bigram = ModelFiles.Path("bigram.onnx"), tokens = ModelFiles.Path("sample_tokens.npy");
        string[] windows = ["--tokens", tokens, "--context", "32", "--stride", "8", "--device", "cpu"];
        var hot = CliRunner.Json(["perplexity", "--model", bigram, "--temperature", "1.7", .. windows]);
        var ids = GpuInfo.Models.TokenizedText.ReadIds(tokens).Ids;
        var (sum, count) = BigramClosedForm.Total(ids, 32, 8, ModelFiles.Vocab, (double)1.7f);
        Assert.Equal(sum / count, CliRunner.Number(hot["mean_nll"]), 1e-6 * (sum / count));

        var compared = CliRunner.Json(["compare-models", "--base", bigram, "--test", ModelFiles.Path("window.onnx"), "--temperature", "1.7", .. windows]);
        Assert.Equal(CliRunner.Number(hot["perplexity"]), CliRunner.Number(compared["ppl_base"]), 1e-6 * CliRunner.Number(hot["perplexity"])); // two passes: 1.6e-8 apart
        var cool = CliRunner.Json(["compare-models", "--base", bigram, "--test", ModelFiles.Path("window.onnx"), .. windows]);
        Assert.NotEqual(CliRunner.Number(cool["acceptance_rate"]), CliRunner.Number(compared["acceptance_rate"]), 3);
        CliRunner.Fails(2, ["temperature"], ["perplexity", "--model", bigram, "--temperature", "0", .. windows]);
    }

    /// <summary>A model exported with its KV cache (optimum's default) scores as its twin without one: compare-models reads no divergence, and perplexity's figures are the same.</summary>
    [Fact]
    public void A_model_exported_with_its_kv_cache_scores_as_its_twin_without_one()
    {
        var plain = CliRunner.Json(["perplexity", "--model", ModelFiles.Path("window.onnx"), .. Text, "--batch", "3"]);
        var cached = CliRunner.Json(["perplexity", "--model", ModelFiles.Path("window_past.onnx"), .. Text, "--batch", "3"]);
        foreach (string key in new[] { "tokens", "mean_nll", "perplexity", "mean_entropy", "top1_accuracy", "bits_per_byte" })
        {
            Assert.Equal(plain[key]!.ToJsonString(), cached[key]!.ToJsonString());
        }

        var compared = CliRunner.Json(["compare-models", "--base", ModelFiles.Path("bigram.onnx"), "--test", ModelFiles.Path("bigram_merged.onnx"), .. Text]);
        Assert.Equal(0, CliRunner.Number(compared["mean_kld"]));
        Assert.Equal(1, CliRunner.Number(compared["same_top1"]));
    }

    [Theory]
    [InlineData("perplexity", "entropy", "mean_entropy")]
    [InlineData("perplexity", "brier", "brier")]
    [InlineData("compare-models", "tv", "mean_tvd")]
    [InlineData("compare-models", "js", "mean_js")]
    public void Per_token_files_hold_the_measure_asked_for(string verb, string measure, string mean)
    {
        using var dir = new TempDir();
        string file = dir.File("values.npy");
        string[] model = verb == "perplexity"
            ? ["--model", ModelFiles.Path("window.onnx")]
            : ["--base", ModelFiles.Path("window.onnx"), "--test", ModelFiles.Path("bigram.onnx")];
        var report = CliRunner.Json([verb, .. model, .. Text, "--per-token", file, "--per-token-measure", measure]);
        var values = CliRunner.NpyValues<float>(file);
        Assert.Equal(report["tokens"]!.GetValue<long>(), values.Length); // one per scored token
        Assert.Equal(CliRunner.Number(report[mean]), values.Average(v => (double)v), 1e-6 * CliRunner.Number(report[mean]));
    }

    [Fact]
    public void Ids_files_score_as_their_text_does_and_take_the_texts_size_for_bits_per_byte()
    {
        using var dir = new Formats.TempDir();
        string plot = dir.File("reliability.svg");
        var fromText = CliRunner.Json(["perplexity", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--plot", plot]);
        Assert.Contains("top-1 reliability", File.ReadAllText(plot), StringComparison.Ordinal); // the model's calibration, as eval --plot draws it
        Assert.InRange(CliRunner.Number(fromText["ece"]), 0, 1);
        var fromIds = CliRunner.Json("perplexity", "--model", ModelFiles.Path("bigram.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"),
            "--context", "32", "--stride", "8", "--device", "cpu", "--total-bytes", "387");
        Assert.Equal(fromText["mean_nll"]!.ToJsonString(), fromIds["mean_nll"]!.ToJsonString());

        // From the text, bits per byte count the bytes of the scored tokens (all but the first token's);
        // from ids with --total-bytes, the whole text's: the figures differ by that first token (a bias of one token, kept).
        Assert.True(CliRunner.Number(fromText["bits_per_byte"]) > CliRunner.Number(fromIds["bits_per_byte"]));
    }

    [Fact]
    public void Compare_models_gives_compares_report_and_a_model_against_itself_is_zero()
    {
        var report = CliRunner.Json(["compare-models", "--base", ModelFiles.Path("window.onnx"), "--test", ModelFiles.Path("bigram.onnx"), .. Text, "--top-k", "5"]);
        var golden = ModelFiles.Golden["runs"]!.AsArray().Single(r => r!["model"]!.GetValue<string>() == "bigram" && r["stride"]!.GetValue<int>() == 8)!;
        Assert.Equal(golden["perplexity"]!.GetValue<double>(), CliRunner.Number(report["ppl_test"]), 1e-6 * golden["perplexity"]!.GetValue<double>());
        foreach (string key in new[] { "mean_kld", "kld_percentiles", "mean_js", "same_top1", "ppl_base", "mean_delta_p", "rms_delta_p", "cor_ln_ppl", "top_k_overlap", "model_seconds" })
        {
            Assert.NotNull(report[key]);
        }

        var self = CliRunner.Json(["compare-models", "--base", ModelFiles.Path("window.onnx"), "--test", ModelFiles.Path("window.onnx"), .. Text]);
        Assert.Equal(0, CliRunner.Number(self["mean_kld"]), 12);
        Assert.Equal(1, CliRunner.Number(self["same_top1"]));
    }

    [Fact]
    public void Compare_models_refuses_models_of_different_vocabularies()
    {
        var (code, _, stderr) = CliRunner.Run("compare-models", "--base", ModelFiles.Path("bigram.onnx"), "--test", ModelFiles.Path("small_vocab.onnx"),
            "--tokens", ModelFiles.Path("sample_tokens.npy"), "--context", "32", "--stride", "8", "--device", "cpu");
        Assert.Equal(GpuInfo.Cli.ExitCode.BadData, code);
        Assert.Contains("small_vocab.onnx", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_demo_scores_its_text_with_the_embedded_model()
    {
        var demo = CliRunner.Json("demo", "--rows", "8", "--vocab", "64", "--device", "cpu");
        var lm = demo["language_model"]!;
        var ppl = CliRunner.Json("perplexity", "--model", ModelFiles.Path("Samples/demo.onnx"), "--tokenizer", ModelFiles.VocabJson,
            "--text", ModelFiles.Path("Samples/demo.txt"), "--context", "64", "--stride", "32", "--device", "cpu");
        Assert.Equal(ppl["tokens"]!.GetValue<long>(), lm["tokens"]!.GetValue<long>());
        Assert.Equal(CliRunner.Number(ppl["perplexity"]), CliRunner.Number(lm["perplexity"]));
        Assert.Equal(CliRunner.Number(ppl["bits_per_byte"]), CliRunner.Number(lm["bits_per_byte"]));

        // Its contexts grouped by the IB are what 'ib --model' finds on the same model and text.
        var ib = CliRunner.Json("ib", "--model", ModelFiles.Path("Samples/demo.onnx"), "--tokenizer", ModelFiles.VocabJson,
            "--text", ModelFiles.Path("Samples/demo.txt"), "--context", "64", "--stride", "32", "--beta", "10", "--clusters", "4", "--restarts", "2", "--device", "cpu");
        var alike = lm["contexts_alike"]!;
        foreach (string key in new[] { "i_xt_bits", "i_ty_bits", "i_xy_bits" })
        {
            Assert.Equal(CliRunner.Number(ib[key]), CliRunner.Number(alike[key]));
        }

        var first = ib["clusters"]![0]!;
        Assert.StartsWith($"mass {(double)first["mass"]!:F4}  contexts {first["contexts"]}  top: ", (string)alike[$"cluster {first["cluster"]}"]!, StringComparison.Ordinal);
        Assert.NotNull(alike[$"cluster {first["cluster"]} e.g. 1"]);
    }

    [Fact]
    public void Ib_over_a_model_names_its_clusters_tokens_and_shows_contexts_from_the_text()
    {
        using var dir = new TempDir();
        string assignments = System.IO.Path.Combine(dir.Path, "a.npy");
        var report = CliRunner.Json(["ib", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--beta", "8", "--clusters", "4", "--top-tokens", "3", "--examples", "2", "--assignments", assignments]);
        var clusters = report["clusters"]!.AsArray();
        Assert.Equal(244, clusters.Sum(c => (int)c!["contexts"]!));
        var hard = new long[244];
        using (var file = GpuInfo.Formats.TargetsFile.Open(assignments))
        {
            file.Read(0, hard);
        }

        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson).Tokenizer;
        string sample = File.ReadAllText(ModelFiles.SampleText);
        var ids = ModelFiles.Sample().Ids;
        foreach (var cluster in clusters)
        {
            Assert.All(cluster!["top_tokens"]!.AsArray(), t => Assert.Equal(tokenizer.Decode([(int)t!["token"]!]), (string)t["text"]!));
            var examples = cluster["examples"]!.AsArray();
            Assert.Equal(Math.Min(2, (int)cluster["contexts"]!), examples.Count);

            // Examples end in different tokens where the cluster's contexts do (rows r predict token r + 1 here).
            long k = (int)cluster["cluster"]!;
            int endings = Enumerable.Range(0, hard.Length).Where(r => hard[r] == k).Select(r => ids[r]).Distinct().Count();
            Assert.Equal(Math.Min(endings, examples.Count), examples.Select(e => ids[(int)e!["token_index"]! - 1]).Distinct().Count());
            foreach (var e in examples)
            {
                // Each example is a row of this cluster, shown as the text before its token and that token.
                Assert.Equal((long)(int)cluster["cluster"]!, hard[(long)e!["row"]!]);
                int token = (int)e["token_index"]!;
                Assert.Equal(ids[token], (int)e["next_id"]!);
                string context = ((string)e["context"]!).TrimStart('…'), next = (string)e["next"]!;
                Assert.Contains(context + next, sample, StringComparison.Ordinal);
                Assert.Equal(tokenizer.Decode(ids.Take(token)), sample[..tokenizer.Decode(ids.Take(token))!.Length]);
                Assert.EndsWith(context, tokenizer.Decode(ids.Take(token))!, StringComparison.Ordinal);
            }
        }

        var (code, stdout, _) = CliRunner.Run(["ib", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--beta", "8", "--clusters", "3"]);
        Assert.Equal(0, code);
        Assert.Contains("e.g.", stdout, StringComparison.Ordinal);

        // Rows that do not stay resident run the model again every iteration: said, and the same solution.
        var (rerunCode, rerun, rerunErrors) = CliRunner.Run(["ib", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--beta", "8", "--clusters", "4", "--resident-mib", "0", "--json"]);
        Assert.Equal(0, rerunCode);
        Assert.Contains("do not fit --resident-mib: the model runs again in every iteration", rerunErrors, StringComparison.Ordinal);
        var streamed = System.Text.Json.Nodes.JsonNode.Parse(rerun)!;
        Assert.Equal(CliRunner.Number(report["i_xt_bits"]), CliRunner.Number(streamed["i_xt_bits"]), 1e-6 * CliRunner.Number(report["i_xt_bits"]));
        Assert.DoesNotContain("--resident-mib", CliRunner.Run(["ib", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--beta", "8", "--clusters", "4"]).Stderr, StringComparison.Ordinal);

        var curve = CliRunner.Json(["ib-curve", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--beta-min", "1", "--beta-max", "8", "--steps", "3", "--clusters", "3"]);
        Assert.Equal(3, curve["points"]!.AsArray().Count);
    }

    [Fact]
    public void Ids_without_a_text_show_contexts_by_id_and_tokens_by_the_vocab_given()
    {
        using var dir = new TempDir();
        string names = System.IO.Path.Combine(dir.Path, "vocab.txt");
        File.WriteAllLines(names, Enumerable.Range(0, ModelFiles.Vocab).Select(i => $"tok{i}"));
        var report = CliRunner.Json("ib", "--model", ModelFiles.Path("bigram.onnx"), "--tokens", ModelFiles.Path("sample_tokens.npy"), "--vocab", names,
            "--context", "32", "--stride", "8", "--beta", "8", "--clusters", "2", "--examples", "1", "--device", "cpu");
        var ids = TokenizedText.ReadIds(ModelFiles.Path("sample_tokens.npy")).Ids;
        foreach (var cluster in report["clusters"]!.AsArray())
        {
            Assert.All(cluster!["top_tokens"]!.AsArray(), t => Assert.Equal($"tok{(int)t!["token"]!}", (string)t["text"]!));
            var example = cluster["examples"]![0]!;
            Assert.Null(example["context"]);
            Assert.Equal($"tok{ids[(int)example["token_index"]!]}", (string)example["next"]!);
        }
    }

    [Fact]
    public void Model_options_apply_to_a_model_only()
    {
        string logits = CliRunner.Golden("base.npy");
        CliRunner.Fails(2, ["--text applies to --model only"], "ib", "--logits", logits, "--text", ModelFiles.SampleText, "--beta", "1");
        CliRunner.Fails(2, ["--examples applies to --model only"], "ib", "--logits", logits, "--examples", "2", "--beta", "1");
        CliRunner.Fails(2, ["exactly one of --joint, --logits, --probs or --model"], "ib", "--logits", logits, "--model", ModelFiles.Path("bigram.onnx"), "--beta", "1");
        CliRunner.Fails(2, ["--vocab", "with --text the tokenizer names them"], ["ib", "--model", ModelFiles.Path("bigram.onnx"), .. Text, "--vocab", ModelFiles.SampleText, "--beta", "1"]);
        CliRunner.Fails(2, ["--text (with --tokenizer) or --tokens"], "ib", "--model", ModelFiles.Path("bigram.onnx"), "--beta", "1");
        CliRunner.Fails(3, ["small_vocab.onnx", "vocabulary 100"], ["ib", "--model", ModelFiles.Path("small_vocab.onnx"), .. Text, "--beta", "1"]);
    }
}
