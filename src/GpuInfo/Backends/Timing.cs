using System.Diagnostics;

namespace GpuInfo.Backends;

internal static class Timing
{
    /// <summary>
    /// Warm-up lasts at least this long, whatever the warm-up count: the runtime promotes hot methods
    /// to optimised code only after a 100 ms call-counting delay and a background compile, and the
    /// first op timed on the CPU path measured 30-50% slow with a count of 5 alone.
    /// </summary>
    private static readonly TimeSpan MinWarmup = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs <paramref name="run"/> warmups + repeats times (more warm-ups while under
    /// <see cref="MinWarmup"/>); returns the seconds of each timed run.</summary>
    public static double[] Repeat(Action run, int warmups, int repeats)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmups || (i < 1000 && Stopwatch.GetElapsedTime(start) < MinWarmup); i++)
        {
            run();
        }

        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        return seconds;
    }
}
