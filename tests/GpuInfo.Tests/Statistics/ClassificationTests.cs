namespace GpuInfo.Tests.Statistics;

/// <summary><see cref="Classification"/> as scikit-learn defines its f1_score and matthews_corrcoef (the harness's f1 and mcc aggregations).</summary>
public sealed class ClassificationTests
{
    [Fact]
    public void Binary_f1_and_matthews_correlation_match_their_definitions()
    {
        // 3 true positives, 1 false positive, 2 false negatives, 2 true negatives.
        int[] golds = [1, 1, 1, 1, 1, 0, 0, 0], predictions = [1, 1, 1, 0, 0, 1, 0, 0];
        Assert.Equal(6.0 / 9, Classification.BinaryF1(golds, predictions), 15);
        Assert.Equal(((3.0 * 2) - (1 * 2)) / Math.Sqrt(4.0 * 5 * 3 * 4), Classification.MatthewsCorrelation(golds, predictions), 15); // (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))
        Assert.Equal(0, Classification.BinaryF1([0, 0, 0], [0, 0, 0])); // no positive label or prediction: scikit-learn's zero_division, 0
        Assert.Equal(0, Classification.MatthewsCorrelation([1, 1, 1], [1, 0, 1])); // one gold class: 0, as scikit-learn
        Assert.Equal(1, Classification.MatthewsCorrelation([0, 1, 2, 2], [0, 1, 2, 2]), 15);
        Assert.Throws<ArgumentException>(() => Classification.BinaryF1([0, 2], [0, 1]));
        Assert.Throws<ArgumentException>(() => Classification.BinaryF1([0, 1], [0]));
        Assert.Throws<ArgumentException>(() => Classification.MatthewsCorrelation([0, -1], [0, 1]));

        // Several classes against the confusion-matrix form: (c s - sum t_k p_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)).
        var random = new Random(Environment.TickCount);
        for (int round = 0; round < 20; round++)
        {
            int n = random.Next(2, 300), classes = random.Next(2, 6);
            int[] g = [.. Enumerable.Range(0, n).Select(_ => random.Next(classes))], p = [.. g.Select(x => random.Next(4) == 0 ? random.Next(classes) : x)];
            var confusion = new double[classes, classes];
            for (int i = 0; i < n; i++)
            {
                confusion[g[i], p[i]]++;
            }

            double c = Enumerable.Range(0, classes).Sum(k => confusion[k, k]);
            double[] t = [.. Enumerable.Range(0, classes).Select(k => Enumerable.Range(0, classes).Sum(j => confusion[k, j]))];
            double[] q = [.. Enumerable.Range(0, classes).Select(k => Enumerable.Range(0, classes).Sum(j => confusion[j, k]))];
            double denominator = ((double)n * n - q.Sum(x => x * x)) * ((double)n * n - t.Sum(x => x * x));
            double expected = denominator == 0 ? 0 : ((c * n) - t.Zip(q, (a, b) => a * b).Sum()) / Math.Sqrt(denominator);
            Assert.Equal(expected, Classification.MatthewsCorrelation(g, p), 12);
        }
    }

    [Fact]
    public void Averaged_f1_matches_scikit_learn_and_the_harness_task_aggregations()
    {
        // f1_reference.json (make_f1_reference.py): scikit-learn's f1_score, and each lm-evaluation-harness task's own
        // aggregation function (kobest's, AraDiCE's, lm_eval.utils's, SuperGLUE cb's, basqueglue vaxx's) on the same lists.
        var reference = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(GpuInfo.Tests.Models.ModelFiles.Path("f1_reference.json")))!;
        int checkedCases = 0;
        foreach (var item in reference["cases"]!.AsArray())
        {
            int[] golds = [.. item!["golds"]!.AsArray().Select(x => (int)x!)], predictions = [.. item["predictions"]!.AsArray().Select(x => (int)x!)];
            var ours = new Dictionary<string, double>
            {
                ["micro"] = Classification.F1(golds, predictions, F1Average.Micro),
                ["macro"] = Classification.F1(golds, predictions, F1Average.Macro),
                ["weighted"] = Classification.F1(golds, predictions, F1Average.Weighted),
                ["labels 0 1 2"] = Classification.MeanF1OfLabels(golds, predictions, [0, 1, 2]),
                ["labels 0 2"] = Classification.MeanF1OfLabels(golds, predictions, [0, 2]),
            };
            if (item["binary"] is { } binary)
            {
                Assert.Equal((double)binary, Classification.F1(golds, predictions, F1Average.Binary), 14);
            }

            foreach (var (name, value) in ours)
            {
                Assert.Equal((double)item[name]!, value, 14);
                Assert.Equal((double)item["harness"]![name]!, value, 14);
            }

            checkedCases++;
        }

        Assert.True(checkedCases >= 8);
        Assert.NotEqual(Classification.F1([0, 1, 2, 2], [0, 2, 2, 1], F1Average.Macro), Classification.MeanF1OfLabels([0, 1, 2, 2], [0, 2, 2, 1], [0, 1, 2, 3])); // an absent label counts 0 in the fixed mean
        Assert.Throws<ArgumentException>(() => Classification.F1([], [], F1Average.Macro));
        Assert.Throws<ArgumentException>(() => Classification.MeanF1OfLabels([0], [0], []));
    }
}
