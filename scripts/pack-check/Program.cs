// The user program of scripts/pack-check.sh, compiled against the GpuInfo package it packed:
//   PackCheck library                   a figure of the library against a float64 recomputation
//   PackCheck demo DEMO.json            the installed tool's `gpuinfo demo --json` output
//   PackCheck packages FEED VERSION     what every package in the folder feed carries
// Each prints what it saw; a failure is one line on stderr and exit code 1.
using PackCheck;

try
{
    IEnumerable<string> lines = args switch
    {
        ["library"] => [LibraryCheck.Run()],
        ["demo", var json] => [DemoCheck.Run(json)],
        ["packages", var feed, var version] => PackageCheck.Run(feed, version),
        _ => throw new CheckFailedException("usage: PackCheck library | demo DEMO.json | packages FEED VERSION"),
    };
    foreach (var line in lines)
    {
        Console.WriteLine(line);
    }

    return 0;
}
catch (CheckFailedException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
