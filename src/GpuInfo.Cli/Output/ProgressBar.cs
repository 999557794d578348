using System.Diagnostics;
using GpuInfo.Corpus;
using Spectre.Console;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Draws a corpus run's progress on stderr (rows/s, GB/s, ETA), or a corpus's tokenizing (MB/s, ETA);
/// silent under --json, for small inputs, and when stderr is not a terminal.
/// </summary>
internal static class ProgressBar
{
    public const long MinimumBytes = 256L << 20;

    public static T Run<T>(bool enabled, string label, long totalBytes, Func<IProgress<CorpusProgress>?, T> body) =>
        Show(enabled, label, totalBytes, 1, (task, seconds, p) =>
        {
            task.MaxValue = Math.Max(1, p.TotalRows);
            task.Description = $"{label} {p.Rows / seconds:N0} rows/s, {p.Bytes / seconds / 1e9:F2} GB/s";
            task.Value = p.Rows;
        }, body);

    /// <summary>As <see cref="Run{T}"/>, for work measured in bytes of files read (a corpus being tokenized): MB/s and the time left.</summary>
    public static T RunBytes<T>(bool enabled, string label, long totalBytes, Func<IProgress<long>?, T> body) =>
        Show(enabled, label, totalBytes, totalBytes, (task, seconds, bytes) =>
        {
            task.Description = $"{label} {bytes / seconds / 1e6:F1} MB/s";
            task.Value = Math.Min(bytes, totalBytes);
        }, body);

    /// <summary>Runs <paramref name="body"/> with a bar that <paramref name="update"/> moves (given the seconds so far), or with no progress where none is shown.</summary>
    private static T Show<TValue, T>(bool enabled, string label, long totalBytes, double maxValue, Action<ProgressTask, double, TValue> update, Func<IProgress<TValue>?, T> body)
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
                var task = ctx.AddTask(label, maxValue: maxValue);
                return body(new Sink<TValue>(value => update(task, Math.Max(1e-9, clock.Elapsed.TotalSeconds), value)));
            });
    }

    private sealed class Sink<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }
}
