using System.Diagnostics;
using System.Globalization;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// Prints each IB iteration over rows on stderr with the seconds it took and those its products took,
/// and keeps both: their medians are an iteration's steady cost and its products' share (the first
/// iteration, which starts after the setup pass, is not counted; nor is the first of a restart or a beta).
/// </summary>
internal sealed class IbProgressPrinter(TextWriter stderr) : IProgress<IbIteration>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<double> _seconds = [];
    private readonly List<double> _productSeconds = [];
    private TimeSpan _last;
    private (double Beta, int Restart) _run = (double.NaN, -1);

    /// <summary>The median seconds of an iteration after the first of its run, or null when there was none.</summary>
    public double? SecondsPerIteration => Median(_seconds);

    /// <summary>The median seconds of those iterations' products (the rest is the solver's host work), or null.</summary>
    public double? ProductSecondsPerIteration => Median(_productSeconds);

    public void Report(IbIteration value)
    {
        var now = _clock.Elapsed;
        double seconds = (now - _last).TotalSeconds;
        _last = now;
        bool sameRun = _run == (value.Beta, value.Restart);
        _run = (value.Beta, value.Restart);
        if (sameRun)
        {
            _seconds.Add(seconds);
            _productSeconds.Add(value.ProductSeconds);
        }

        stderr.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"beta {value.Beta:G4} restart {value.Restart} iteration {value.Iteration}: L = {value.Objective:G10} nats, {value.Clusters} clusters, encoder moved {value.Moved:G3}, {seconds:F3} s (products {value.ProductSeconds:F3} s)"));
    }

    private static double? Median(List<double> values) => values.Count == 0 ? null : values.Order().ElementAt(values.Count / 2);
}
