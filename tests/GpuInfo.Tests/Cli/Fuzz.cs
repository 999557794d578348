using System.Text.Json.Nodes;

namespace GpuInfo.Tests.Cli;

/// <summary>What the fuzz tests share: byte mutations of a valid file, and the check that a run reported or failed cleanly.</summary>
internal static class Fuzz
{
    /// <summary>One to three edits: a byte replaced or bit flipped, a run deleted or random bytes inserted, a byte of number or JSON syntax put in.</summary>
    public static byte[] Mutate(byte[] valid, Random rng)
    {
        var bytes = valid.ToList();
        int edits = rng.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = rng.Next(bytes.Count);
            switch (rng.Next(5))
            {
                case 0:
                    bytes[at] = (byte)rng.Next(256);
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(rng.Next(1, 16), bytes.Count - at));
                    break;
                case 3:
                    bytes.InsertRange(at, Enumerable.Range(0, rng.Next(1, 8)).Select(_ => (byte)rng.Next(256)));
                    break;
                default:
                    bytes[at] = (byte)"0123456789{}[],:\"' -eE."[rng.Next(23)];
                    break;
            }

            if (bytes.Count == 0)
            {
                bytes.Add(0);
            }
        }

        return [.. bytes];
    }

    /// <summary>
    /// A run either succeeded (exit 0; with <paramref name="json"/>, one JSON object holding no NaN)
    /// or failed with one of <paramref name="failures"/>: nothing on stdout, one line on stderr, no
    /// stack trace. Exit 1, an internal error, is never one of them.
    /// </summary>
    public static void ReportedOrFailedCleanly((int Code, string Stdout, string Stderr) run, string what, int[] failures, bool json = true)
    {
        var (code, stdout, stderr) = run;
        Assert.True(code == 0 || failures.Contains(code), $"{what}: exit {code}, stderr: {stderr}");
        if (code == 0)
        {
            if (json)
            {
                Assert.IsType<JsonObject>(JsonNode.Parse(stdout));
                Assert.DoesNotContain("NaN", stdout, StringComparison.Ordinal);
            }

            return;
        }

        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
