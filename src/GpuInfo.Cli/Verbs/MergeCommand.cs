using System.CommandLine;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo merge A.json B.json ...</c>: combines the shard partials of one run into its report (the library's <see cref="CorpusPartial.Merge"/>).</summary>
internal static class MergeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var files = new Argument<string[]>("partials") { Description = "Partials written by --partial (eval, compare, perplexity, compare-models, loglikelihood), every shard of one run; a directory stands for its part-*-of-*.json files (--partial-dir).", Arity = ArgumentArity.OneOrMore };
        var rates = new TextRates();
        var plot = new Option<string?>("--plot") { Description = "Draw the merged run's picture, as eval --plot (reliability diagram) or compare --plot (KL, delta-p, reliability) do, as .svg or .png." };
        var command = new Command("merge", "Merge the shard partials of one run (from --partial) into its report; sums are exact, so the report equals one run's.") { files, json, plot };
        rates.AddTo(command);
        command.SetAction(parse =>
        {
            var (bytes, words) = rates.Parse(parse);
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            var paths = parse.GetValue(files)!.SelectMany(Expand).ToList();
            var loglikelihood = paths.Select(LoglikelihoodPartial.IsOne).ToList();
            if (loglikelihood.Distinct().Count() > 1)
            {
                int odd = loglikelihood.IndexOf(!loglikelihood[0]);
                throw new Formats.InvalidFileException(paths[odd], $"{(loglikelihood[odd] ? "a loglikelihood partial" : "a corpus run's partial")} cannot be merged with {(loglikelihood[0] ? "loglikelihood partials" : "a corpus run's partials")} ({paths[0]}).");
            }

            if (loglikelihood[0])
            {
                if (plotPath is not null || (bytes ?? words) is not null)
                {
                    throw CliException.Usage($"{(plotPath is not null ? "--plot" : "--total-bytes and --total-words")}: loglikelihood partials merge into its report alone.");
                }

                return LoglikelihoodCommand.Merge(stdout, paths, parse.GetValue(json));
            }

            var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load));
            string kind = merged.Measure == CorpusMeasure.Evaluation ? "eval" : "compare";
            var report = merged.Evaluation is { } totals
                ? EvalCommand.Report(totals, merged.IgnoredTargets, "merged", 0)
                : CompareCommand.Report(merged.Comparison!, "merged", 0);
            if (merged.Evaluation is { } evaluation)
            {
                TextRates.CheckMerged(merged, bytes, words);
                TextRates.AddTo(report, evaluation, bytes, words);
            }
            else if ((bytes ?? words) is not null)
            {
                throw CliException.Usage("--total-bytes and --total-words apply to eval partials.");
            }

            report["partials"] = paths.Count;
            if (plotPath is not null)
            {
                string title = $"merged {kind} of {paths.Count} partials";
                if (merged.Comparison is { } merge)
                {
                    ComparisonPlot.Save(plotPath, merge, title);
                }
                else if (merged.Evaluation!.Calibration is { } calibration)
                {
                    ReliabilityPlot.Save(plotPath, calibration, title);
                }
                else
                {
                    throw CliException.BadData($"{paths[0]}: partials of format version {merged.Version} hold no calibration bins to plot; rerun the shards with this version of gpuinfo.");
                }
            }

            if (merged.Comparison is not null)
            {
                report["kld_percentiles_relative_error"] = LogHistogram.RelativeError;
            }

            if (merged.Comparison is { } comparison && !parse.GetValue(json))
            {
                ComparisonText.Write(stdout, $"merged compare of {paths.Count} partials", comparison, "merged", 0);
            }
            else
            {
                CompareCommand.Print(stdout, parse.GetValue(json), $"merged {kind} of {paths.Count} partials", report);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>A directory stands for its part-*-of-*.json files (as --partial-dir writes them).</summary>
    private static IEnumerable<string> Expand(string path)
    {
        if (!Directory.Exists(path))
        {
            // The partials argument takes any word, so an option merge lacks (--device) arrives here as a path.
            return path.StartsWith('-') && !File.Exists(path)
                ? throw CliException.Usage($"{path}: not an option of merge, nor a file (merge takes the partials, --json, --plot, --total-bytes and --total-words).")
                : [path];
        }

        var parts = Directory.GetFiles(path, "part-*-of-*.json").Order(StringComparer.Ordinal).ToList();
        return parts.Count > 0 ? parts : throw CliException.BadData($"{path}: no partials (part-<i>-of-<n>.json) in this directory.");
    }
}
