using System.Runtime.InteropServices;
using GpuInfo.Formats;

namespace GpuInfo.Tests.Formats;

/// <summary>
/// Thousands of random mutations of valid files: each must either read correctly (a full read of
/// every row succeeds) or fail with <see cref="InvalidFileException"/>, never another exception.
/// </summary>
public sealed class FormatFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Mutated_npy_files_read_or_fail_with_the_format_error()
    {
        var data = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var valid = NpyFormatTests.Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        Fuzz(valid, "fuzz.npy", seedBase: 1000, mutationsPerFile: 2500);
    }

    [Fact]
    public void Mutated_safetensors_files_read_or_fail_with_the_format_error()
    {
        string path = _dir.File("valid.safetensors");
        SafetensorsFormat.Write(path,
        [
            ("logits", DType.Float32, [3, 4], new byte[48]),
            ("targets", DType.Int64, [3], new byte[24]),
        ]);
        Fuzz(File.ReadAllBytes(path), "fuzz.safetensors", seedBase: 2000, mutationsPerFile: 2500);
    }

    [Fact]
    public void Mutated_torch_files_read_or_fail_with_the_format_error()
    {
        Fuzz(File.ReadAllBytes(TorchFormatTests.Fixture("dict.pt")), "fuzz.pt", seedBase: 3000, mutationsPerFile: 2500);
    }

    [Fact]
    public void Torch_files_with_mutated_pickles_read_or_fail_with_the_format_error()
    {
        // Mutations of the whole file mostly break the zip; these keep it whole and mutate data.pkl.
        using var zip = System.IO.Compression.ZipFile.OpenRead(TorchFormatTests.Fixture("dict.pt"));
        var records = zip.Entries.Select(e =>
        {
            using var stream = e.Open();
            var data = new byte[e.Length];
            stream.ReadExactly(data);
            return (e.FullName, Data: data);
        }).ToList();
        Fuzz(rng => TorchFormatTests.Zip([.. records.Select(r => (r.FullName, r.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) ? Cli.Fuzz.Mutate(r.Data, rng) : r.Data))]),
            "pickle.pt", seedBase: 4000, mutationsPerFile: 2500);
    }

    private void Fuzz(byte[] valid, string name, int seedBase, int mutationsPerFile) =>
        Fuzz(rng => Cli.Fuzz.Mutate(valid, rng), name, seedBase, mutationsPerFile);

    private void Fuzz(Func<Random, byte[]> mutant, string name, int seedBase, int mutationsPerFile)
    {
        string path = _dir.File(name);
        int failures = 0, reads = 0;
        for (int m = 0; m < mutationsPerFile; m++)
        {
            var rng = new Random(seedBase + m);
            File.WriteAllBytes(path, mutant(rng));
            try
            {
                foreach (var info in Tensors(path))
                {
                    ReadEverything(info);
                }

                reads++;
            }
            catch (InvalidFileException)
            {
                failures++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {m} (seed {seedBase + m}) of {name} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        Assert.True(failures > 0 && reads > 0, $"the fuzzer should produce both readable and broken files ({reads} read, {failures} refused)");
    }

    /// <summary>The readable tensors of a file (a .pt file's non-contiguous views and unsupported dtypes are refused when used, as tested in TorchFormatTests).</summary>
    private static IEnumerable<TensorInfo> Tensors(string path) => Path.GetExtension(path) switch
    {
        ".npy" => [NpyFormat.Read(path)],
        ".pt" => TorchFormat.ReadAll(path).Tensors.Select(t => t.Info).OfType<TensorInfo>().Where(t => t.Unsupported is null),
        _ => SafetensorsFormat.ReadAll(path),
    };

    private static void ReadEverything(TensorInfo info)
    {
        var buffer = new byte[Math.Min(info.ByteLength, 1 << 20)];
        if (info.DType.IsFloat() && info.Rank is 2 or 3 && info.Shape[^1] is > 0 and <= 1 << 16)
        {
            using var logits = LogitsFile.Open(info.Path, info.Named ? info.Name : null);
            for (long r = 0; r < logits.Rows; r++)
            {
                logits.ReadRows(r, 1, buffer);
            }
        }
    }
}
