using System.Diagnostics;
using Spectre.Console;

namespace GpuInfo.Cli.Streaming;

/// <summary>
/// A progress bar on stderr for long runs (rows/s, GB/s, ETA); silent under --json, for small
/// inputs, and when stderr is not a terminal.
/// </summary>
internal static class Progress
{
    public const long MinimumBytes = 256L << 20;

    public static void Run(bool enabled, string label, long totalRows, long totalBytes, Action<Action<long, long>> body)
    {
        if (!enabled || totalBytes < MinimumBytes || Console.IsErrorRedirected)
        {
            body((_, _) => { });
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var clock = Stopwatch.StartNew();
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: totalRows);
                long rows = 0, bytes = 0;
                body((r, b) =>
                {
                    rows += r;
                    bytes += b;
                    double s = Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    task.Description = $"{label} {rows / s:N0} rows/s, {bytes / s / 1e9:F2} GB/s";
                    task.Value = rows;
                });
            });
    }
}
