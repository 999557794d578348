using System.Text.Json.Nodes;
using GpuInfo.Tests.Models;

namespace GpuInfo.Tests.Statistics;

/// <summary>
/// <see cref="PythonRandom"/> and <see cref="HarnessBootstrap"/> against CPython 3.11's <c>random</c> and
/// lm-evaluation-harness's own <c>bootstrap_stderr</c>, run by <c>Models/make_loglikelihood_reference.py</c> (its
/// <c>bootstrap</c> section): the harness's LAMBADA <c>perplexity_stderr</c> of that file's passages and of drawn
/// log-likelihoods with other counts and iterations.
/// </summary>
public sealed class HarnessBootstrapTests
{
    private static readonly JsonObject Reference = (JsonObject)JsonNode.Parse(File.ReadAllText(ModelFiles.Path("loglikelihood_reference.json")))!["bootstrap"]!;

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, Reference["python_random"]!.AsArray().Count)];

    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, Reference["cases"]!.AsArray().Count)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void DrawsWhatCPythonDraws(int index)
    {
        var expected = Reference["python_random"]![index]!;
        ulong seed = expected["seed"]!.GetValue<ulong>();
        int draws = expected["draws"]!.GetValue<int>();
        var random = new PythonRandom(seed);
        var doubles = Enumerable.Range(0, draws).Select(_ => random.NextDouble()).ToArray();
        var want = expected["random"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(want, doubles.Take(5).Concat(doubles.TakeLast(3)).ToArray());

        var indices = new int[10];
        new PythonRandom(seed).ChoiceIndices(5153, indices);
        Assert.Equal(expected["choices_of_5153"]!.AsArray().Select(v => v!.GetValue<int>()), indices);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PerplexityStderrIsTheHarnesss(int index)
    {
        var expected = Reference["cases"]![index]!;
        var values = expected["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        int iterations = expected["iterations"]!.GetValue<int>();
        Assert.Equal(expected["perplexity"]!.GetValue<double>(), HarnessBootstrap.Perplexity(values), 1e-14 * expected["perplexity"]!.GetValue<double>());
        double want = expected["perplexity_stderr"]!.GetValue<double>();
        double got = HarnessBootstrap.PerplexityStderr(values, iterations);
        Assert.True(Math.Abs(got - want) <= 1e-12 * want, $"{expected["name"]}: {got:R} against the harness's {want:R}");
    }

    [Fact]
    public void ADifferentDrawGivesADifferentError()
    {
        // The figure is the draw's, not any bootstrap's: the same values reversed (another resampling) give another error.
        var values = Reference["cases"]![3]!["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        double forward = HarnessBootstrap.PerplexityStderr(values, 2500);
        double reversed = HarnessBootstrap.PerplexityStderr([.. values.Reverse()], 2500);
        Assert.NotEqual(forward, reversed);
        Assert.InRange(reversed / forward, 0.8, 1.25);
    }

    [Fact]
    public void OneValueHasNoErrorAndTooFewIterationsAreRefused()
    {
        Assert.True(double.IsNaN(HarnessBootstrap.PerplexityStderr([-1.5])));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => HarnessBootstrap.PerplexityStderr([-1.0, -2.0], 1));
        Assert.Equal("iterations", e.ParamName);
        Assert.Equal(0, HarnessBootstrap.Stderr([-1.0, -2.0, -3.0], _ => 4.0, 1000));
    }
}
