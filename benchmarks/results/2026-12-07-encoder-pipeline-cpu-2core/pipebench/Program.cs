// Documents of a .jsonl encoded by DocumentEncoder with THREADS workers, taken by a consumer that joins them (TokenizedTextBuilder, as perplexity --text does).
using System.Diagnostics;
using System.Text.Json;
using GpuInfo.Models;
string path = args[0];
int threads = int.Parse(args[1]);
IEnumerable<(string, string)> Read()
{
    int line = 0;
    foreach (var l in File.ReadLines(path))
    {
        line++;
        yield return ($"{path}:{line}", JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!);
    }
}
var tokenizer = TokenizerCatalog.Load("gpt2");
var clock = Stopwatch.StartNew();
var encoder = new DocumentEncoder(tokenizer, () => TokenizerCatalog.Load("gpt2"), threads);
var builder = new TokenizedTextBuilder(null);
foreach (var d in encoder.Encode(Read())) builder.Add(d);
double encoded = clock.Elapsed.TotalSeconds;
var text = builder.Build("all");
Console.WriteLine($"threads {threads}: {text.Ids.Length} tokens, encoded and added in {encoded:F2} s, built in {clock.Elapsed.TotalSeconds - encoded:F2} s");
