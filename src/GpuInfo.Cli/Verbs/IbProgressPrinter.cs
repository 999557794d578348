using System.Diagnostics;
using System.Globalization;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// Prints each IB iteration over rows on stderr with the seconds it took, and keeps those seconds:
/// their median is an iteration's steady cost (the first, which starts after the setup pass, is not
/// counted; nor is the first of a restart or a beta).
/// </summary>
internal sealed class IbProgressPrinter(TextWriter stderr) : IProgress<IbIteration>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<double> _seconds = [];
    private TimeSpan _last;
    private (double Beta, int Restart) _run = (double.NaN, -1);

    /// <summary>The median seconds of an iteration after the first of its run, or null when there was none.</summary>
    public double? SecondsPerIteration =>
        _seconds.Count == 0 ? null : _seconds.Order().ElementAt(_seconds.Count / 2);

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
        }

        stderr.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"beta {value.Beta:G4} restart {value.Restart} iteration {value.Iteration}: L = {value.Objective:G10} nats, {value.Clusters} clusters, encoder moved {value.Moved:G3}, {seconds:F3} s"));
    }
}
