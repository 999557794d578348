using System.CommandLine;
using GpuInfo.Cli.Streaming;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo merge A.json B.json ...</c>: combines shard partials into the report of one run.</summary>
internal static class MergeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout and nothing else there." };
        var files = new Argument<string[]>("partials") { Description = "Partial totals written by 'eval --partial' or 'compare --partial'.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Merge shard partials (from --partial) into one report; sums merge exactly.") { files, json };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(files)!;
            var parsed = paths.Select(p => (Path: p, Partial: Partials.Read(p))).ToList();
            string kind = parsed[0].Partial.Kind;
            var mismatch = parsed.FirstOrDefault(x => x.Partial.Kind != kind);
            if (mismatch.Path is not null)
            {
                throw CliException.BadData($"{mismatch.Path}: a '{mismatch.Partial.Kind}' partial cannot be merged with '{kind}' partials.");
            }

            if (kind == "eval")
            {
                var totals = new PerplexityAccumulator();
                long ignored = 0;
                foreach (var (path, partial) in parsed)
                {
                    var (t, i) = Partials.ReadEval(partial.Body, path);
                    totals.Merge(t);
                    ignored += i;
                }

                var report = EvalCommand.Report(totals, ignored, MergedDevice, 0);
                report["device"] = "merged";
                report["partials"] = parsed.Count;
                CompareCommand.Print(stdout, parse.GetValue(json), $"merged eval of {parsed.Count} partials", report);
            }
            else
            {
                var totals = parsed.Select(x => Partials.ReadCompare(x.Partial.Body, x.Path)).Aggregate((a, b) =>
                {
                    a.Merge(b);
                    return a;
                });
                var report = CompareCommand.Report(totals, "merged", 0);
                report["partials"] = parsed.Count;
                report["kld_percentiles_relative_error"] = LogHistogram.RelativeError;
                CompareCommand.Print(stdout, parse.GetValue(json), $"merged compare of {parsed.Count} partials", report);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static DeviceReport MergedDevice => new() { Kind = DeviceKind.Cpu, Name = "merged", Request = "none", RequestSource = "merge", Reason = "merged partials" };
}
