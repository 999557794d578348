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
                return body(new Sink(p =>
                {
                    double s = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    task.MaxValue = Math.Max(1, p.TotalRows);
                    task.Description = $"{label} {p.Rows / s:N0} rows/s, {p.Bytes / s / 1e9:F2} GB/s";
                    task.Value = p.Rows;
                }));
            });
    }

    private sealed class Sink(Action<CorpusProgress> report) : IProgress<CorpusProgress>
    {
        public void Report(CorpusProgress value) => report(value);
    }
}
