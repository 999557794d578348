using System.Diagnostics;

namespace GpuInfo.Backends;

internal static class Timing
{
    /// <summary>
    /// Warm-up lasts at least this long, whatever the warm-up count: the runtime promotes hot methods
    /// to optimised code only after a 100 ms call-counting delay and a background compile. With a
    /// count of 5 alone, `gpuinfo bench --device cpu --rows 512 --vocab 50257` measured the first
    /// things it times slow: read bandwidth 16–19 GB/s (31–33 with the floor), log-sum-exp 9.7–10.4 ms
    /// (5.7–6.2 with it).
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
