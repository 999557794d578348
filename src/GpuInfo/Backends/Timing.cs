using System.Diagnostics;

namespace GpuInfo.Backends;

internal static class Timing
{
    /// <summary>Runs <paramref name="run"/> warmups + repeats times; returns the seconds of each timed run.</summary>
    public static double[] Repeat(Action run, int warmups, int repeats)
    {
        for (int i = 0; i < warmups; i++)
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
