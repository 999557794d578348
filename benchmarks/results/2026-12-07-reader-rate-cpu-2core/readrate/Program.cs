// How fast one thread reads --text documents (ModelDocuments.Read, through reflection): the rate a DocumentEncoder's reader gives its workers.
using System.Diagnostics;
using System.Reflection;
var cli = Assembly.LoadFrom(Path.Combine(args[0], "GpuInfo.Cli.dll"));
var read = cli.GetType("GpuInfo.Cli.ModelDocuments")!.GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
foreach (string file in args.Skip(1))
{
    for (int round = 0; round < 3; round++)
    {
        var clock = Stopwatch.StartNew();
        long chars = 0, bytes = 0, documents = 0;
        foreach (var (name, content) in (IEnumerable<(string, string)>)read.Invoke(null, [new[] { file }, "text", null])!)
        {
            chars += content.Length;
            bytes += System.Text.Encoding.UTF8.GetByteCount(content);
            documents++;
        }

        double s = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{Path.GetFileName(file)}: {documents} documents, {bytes / 1e6:F1} MB of text in {s:F2} s, {bytes / 1e6 / s:F0} MB/s");
    }
}
