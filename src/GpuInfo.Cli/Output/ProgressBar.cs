using System.Diagnostics;
using GpuInfo.Corpus;
using Spectre.Console;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Draws a corpus run's progress on stderr (rows/s, GB/s, ETA); silent under --json, for small
/// inputs, and when stderr is not a terminal.
/// </summary>
internal static class ProgressBar
{
    public const long MinimumBytes = 256L << 20;

    public static T Run<T>(bool enabled, string label, long totalBytes, Func<IProgress<CorpusProgress>?, T> body)
    {
        if (!enabled || totalBytes < MinimumBytes || Console.IsErrorRedirected)
        {
            return body(null);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var clock = Stopwatch.StartNew();
        return console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: 1);
                return body(new Sink<CorpusProgress>(p =>
                {
                    double s = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    task.MaxValue = Math.Max(1, p.TotalRows);
                    task.Description = $"{label} {p.Rows / s:N0} rows/s, {p.Bytes / s / 1e9:F2} GB/s";
                    task.Value = p.Rows;
                }));
            });
    }

    /// <summary>As <see cref="Run{T}"/>, for work measured in bytes of files read (a corpus being tokenized): MB/s and the time left.</summary>
    public static T RunBytes<T>(bool enabled, string label, long totalBytes, Func<IProgress<long>?, T> body)
    {
        if (!enabled || totalBytes < MinimumBytes || Console.IsErrorRedirected)
        {
            return body(null);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var clock = Stopwatch.StartNew();
        return console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: totalBytes);
                return body(new Sink<long>(bytes =>
                {
                    task.Description = $"{label} {bytes / Math.Max(1e-9, clock.Elapsed.TotalSeconds) / 1e6:F1} MB/s";
                    task.Value = Math.Min(bytes, totalBytes);
                }));
            });
    }

    private sealed class Sink<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }
}
