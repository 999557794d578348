using GpuInfo.Backends.Cpu.Blas;
using GpuInfo.Backends.Ilgpu;
using GpuInfo.Corpus;
using GpuInfo.Tests.Corpus;
using GpuInfo.Tests.Measures;
using ILGPU;
using Half = System.Half;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GpuInfo.Tests.Distributions;

/// <summary>
/// The IB over rows on an ILGPU accelerator (CPU accelerator in CI, CUDA/OpenCL when present): the
/// device's fused pass against the CPU's <see cref="ConditionalIbProducts"/>, and whole solves.
/// Shapes are small: ILGPU's CPU accelerator is slow.
/// </summary>
public abstract class RowsIbKernelTests(EngineFixture fixture)
{
    private const int Rows = 11;

    /// <summary>Run only the small cases (ILGPU's CPU accelerator in a GPU's shape runs groups of hundreds of threads, slowly).</summary>
    protected virtual bool SmallCasesOnly => false;

    [Theory]
    [InlineData("f32", 203)]
    [InlineData("f16", 203)]
    [InlineData("bf16", 203)]
    [InlineData("probs", 203)]
    [InlineData("f32", 4099)]
    public void The_fused_pass_matches_the_cpu_products(string kind, int vocab)
    {
        var engine = fixture.Engine;
        Assert.SkipWhen(SmallCasesOnly && (vocab > 1000 || kind == "probs"), "a slow emulated shape: this case runs on ilgpu-cpu.");
        using var source = Source(kind, vocab, out var minusInfinity);
        var rows = kind == "probs" ? ConditionalRows.FromProbabilities(source) : ConditionalRows.FromLogits(source, temperature: 1.3);
        long chunkBytes = 3L * 4 * vocab;
        using var cpu = ConditionalIbProducts.Problem(rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, residentBytes: 0, default);
        using var gpu = IlgpuConditionalIbProducts.Problem((IlgpuBackend)engine.Backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, residentBytes: 0, CuBlasChunkProducts.OrTiled, default);
        using var resident = IlgpuConditionalIbProducts.Problem((IlgpuBackend)engine.Backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, long.MaxValue, CuBlasChunkProducts.OrTiled, default);
        Assert.DoesNotContain("resident", gpu.Products.Name, StringComparison.Ordinal);
        Assert.EndsWith(", rows resident", resident.Products.Name, StringComparison.Ordinal);

        int t = 5;
        var rng = new Random(7);
        var logDecoder = Enumerable.Range(0, t * vocab).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        logDecoder[2] = -1e300;
        var encoderT = Enumerable.Range(0, t * Rows).Select(_ => rng.NextDouble()).ToArray();

        var (a, b) = (new double[Rows * t], new double[Rows * t]);
        gpu.Products.CrossTerms(logDecoder, t, a);
        cpu.Products.CrossTerms(logDecoder, t, b);
        AssertClose(b, a, "cross term");

        var (c, d) = (new double[t * vocab], new double[t * vocab]);
        gpu.Products.DecoderNumerator(encoderT, t, c);
        cpu.Products.DecoderNumerator(encoderT, t, d);
        AssertClose(d, c, "decoder numerator");
        foreach (int y in minusInfinity)
        {
            Assert.All(Enumerable.Range(0, t), k => Assert.Equal(0, c[k * vocab + y]));
        }

        var (e, f) = (Step(gpu.Products, logDecoder, t, out var crossE), Step(cpu.Products, logDecoder, t, out var crossF));
        AssertClose(crossF, crossE, "fused cross term");
        AssertClose(f, e, "fused numerator");

        // Rows kept on the device after the first pass give the streamed passes' bits, pass after pass.
        for (int pass = 0; pass < 2; pass++)
        {
            Assert.Equal(e, Step(resident.Products, logDecoder, t, out var crossR));
            Assert.Equal(crossE, crossR);
        }

        var g = new double[t * vocab];
        resident.Products.DecoderNumerator(encoderT, t, g);
        Assert.Equal(c, g);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resident_rows_are_read_once_in_all_and_streamed_rows_once_a_pass(bool resident)
    {
        var engine = fixture.Engine;
        const int vocab = 203, t = 4;
        var rng = new Random(11);
        var values = Enumerable.Range(0, Rows * vocab).Select(_ => (float)(3 * rng.NextDouble())).ToArray();
        int reads = 0;
        using var source = new ScriptedSource(values, vocab, new long[Rows], "counted", first =>
        {
            reads += first == 0 ? 1 : 0;
            return null;
        });
        var rows = ConditionalRows.FromLogits(source);
        long chunkBytes = 4L * 4 * vocab;
        using var problem = IlgpuConditionalIbProducts.Problem((IlgpuBackend)engine.Backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes / 2,
            resident ? long.MaxValue : 0, CuBlasChunkProducts.OrTiled, default);
        Assert.Equal(1, reads);
        var logDecoder = Enumerable.Range(0, t * vocab).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        var first = new double[Rows * t];
        problem.Products.CrossTerms(logDecoder, t, first);
        var again = new double[Rows * t];
        problem.Products.CrossTerms(logDecoder, t, again);
        Assert.Equal(resident ? 1 : 3, reads);
        Assert.Equal(first, again);

        // The same cross terms as the CPU's, whichever read made the device's rows.
        using var cpu = ConditionalIbProducts.Problem(rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, residentBytes: 0, default);
        var expected = new double[Rows * t];
        cpu.Products.CrossTerms(logDecoder, t, expected);
        AssertClose(expected, first, "cross term");
    }

    [Fact]
    public void The_device_decoder_matches_the_host_decoder()
    {
        // Columns of -inf logits give zero numerators: log 0 must stay finite on the device too (cross terms stay finite, I(T;Y) gets nothing from them).
        var engine = fixture.Engine;
        int vocab = 203, t = 4;
        using var source = Source("f32", vocab, out var minusInfinity);
        Assert.NotEmpty(minusInfinity);
        var rows = ConditionalRows.FromLogits(source, temperature: 0.8);
        long chunkBytes = 4L * 4 * vocab;
        using var cpu = ConditionalIbProducts.Problem(rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, residentBytes: 0, default);
        using var gpu = IlgpuConditionalIbProducts.Problem((IlgpuBackend)engine.Backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, residentBytes: 0, CuBlasChunkProducts.OrTiled, default);
        using var host = cpu.Products.CreateDecoder(cpu.Py);
        using var device = gpu.Products.CreateDecoder(cpu.Py);
        Assert.IsType<HostIbDecoder>(host);
        Assert.IsType<IlgpuIbDecoder>(device);

        var rng = new Random(11);
        var encoderT = Enumerable.Range(0, t * Rows).Select(_ => rng.NextDouble()).ToArray();
        host.Recompute(encoderT, t);
        device.Recompute(encoderT, t);
        var numerator = host.Numerator();
        AssertClose(numerator, device.Numerator(), "decoder numerator");
        var qt = Enumerable.Range(0, t).Select(k => numerator.AsSpan(k * vocab, vocab).ToArray().Sum()).ToArray();

        double ity = host.Update(qt);
        Assert.True(ity > 0, $"I(T;Y) = {ity}");
        Assert.Equal(ity, device.Update(qt), ity * 1e-6);

        // The next step's cross terms read each side's log q(y|t).
        var (hostCross, deviceCross) = (new double[Rows * t], new double[Rows * t]);
        var (hostEncoder, deviceEncoder) = (new double[Rows * t], new double[Rows * t]);
        EncoderUpdate Update(double[] seen) => (first, n, cross, encoder) =>
        {
            for (int i = 0; i < n * t; i++)
            {
                Assert.True(double.IsFinite(cross[i]), $"cross term {cross[i]}");
                seen[(first * t) + i] = cross[i];
                encoder[(first * t) + i] = 1 + (((first * t) + i) % 3);
            }
        };
        host.Step(hostEncoder, t, Update(hostCross));
        device.Step(deviceEncoder, t, Update(deviceCross));
        AssertClose(hostCross, deviceCross, "cross term");
        var next = device.Numerator();
        AssertClose(host.Numerator(), next, "stepped numerator");
        foreach (int y in minusInfinity)
        {
            Assert.All(Enumerable.Range(0, t), k => Assert.Equal(0, next[(k * vocab) + y]));
        }
    }

    [Fact]
    public void A_solve_on_the_device_recovers_the_planted_groups_and_matches_the_cpu_solve()
    {
        var engine = fixture.Engine;
        Assert.SkipWhen(SmallCasesOnly, "a slow emulated shape: the solve runs on ilgpu-cpu.");
        var planted = new PlantedLogits(groups: 3, perGroup: 4, vocab: 101, spread: 2, noise: 0.3, seed: 21);
        using var source = MemoryRowSource.Float32(planted.Values, planted.Vocab);
        var rows = ConditionalRows.FromLogits(source, temperature: 1.5);
        var options = new IbOptions { Beta = 200, Clusters = 3, Restarts = 1, Seed = 3, MaxIterations = 200 };
        using var cpu = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var expected = cpu.InformationBottleneck(rows, options);
        engine.IbDeviceChunkBytes = 5L * 4 * planted.Vocab;
        var actual = engine.InformationBottleneck(rows, options);

        Assert.StartsWith(((IlgpuBackend)engine.Backend).Accelerator.AcceleratorType.ToString().ToLowerInvariant() + ": ", actual.Products, StringComparison.Ordinal);
        Assert.Equal(expected.Assignments, actual.Assignments);

        // The checking pass is the CPU's; only its chunking differs, so p(y) differs by float32 rounding.
        Assert.Equal(expected.IxyBits, actual.IxyBits, 1e-6);
        Assert.Equal(expected.IxtBits, actual.IxtBits, 1e-4);
        Assert.Equal(expected.ItyBits, actual.ItyBits, 1e-4);
        Assert.Equal(Math.Log2(3), actual.HtBits, 1e-3);
        var px = Enumerable.Repeat(1.0 / planted.Rows, planted.Rows).ToArray();
        var (ixt, ity, _) = PlantedLogits.Recompute(planted.Values, planted.Vocab, 1.5, px, actual.Encoder, actual.ClusterMarginal.Length);
        Assert.Equal(ixt, actual.IxtBits, 1e-6);
        Assert.Equal(ity, actual.ItyBits, 1e-6);
        for (int i = 0; i < planted.Rows; i++)
        {
            Assert.Equal(actual.Assignments[i % 3], actual.Assignments[i]);
        }
    }

    [Fact]
    public void A_chunk_of_more_rows_than_one_numerator_slice_matches_the_cpu_products()
    {
        var engine = fixture.Engine;
        Assert.SkipWhen(SmallCasesOnly, "a slow emulated shape: this case runs on ilgpu-cpu.");
        int rows = ConditionalIbProducts.NumeratorRows + 77, vocab = 37, t = 3;
        var rng = new Random(5);
        using var source = MemoryRowSource.Float32(Enumerable.Range(0, rows * vocab).Select(_ => (float)(4 * rng.NextDouble() - 2)).ToArray(), vocab);
        var conditional = ConditionalRows.FromLogits(source);
        long all = 4L * rows * vocab;
        using var cpu = ConditionalIbProducts.Problem(conditional, Sgemm.Create(1, managedOnly: true), 1, 100L * 4 * vocab, residentBytes: 0, default);
        using var gpu = IlgpuConditionalIbProducts.Problem((IlgpuBackend)engine.Backend, conditional, Sgemm.Create(1, managedOnly: true), 1, all, all, residentBytes: 0, CuBlasChunkProducts.OrTiled, default);
        var logDecoder = Enumerable.Range(0, t * vocab).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        var (cpuCross, gpuCross) = (new double[rows * t], new double[rows * t]);
        var (cpuNumerator, gpuNumerator) = (new double[t * vocab], new double[t * vocab]);
        var (cpuEncoder, gpuEncoder) = (new double[rows * t], new double[rows * t]);
        EncoderUpdate Update(double[] seen) => (first, n, cross, encoder) =>
        {
            for (int i = 0; i < n * t; i++)
            {
                seen[(first * t) + i] = cross[i];
                encoder[(first * t) + i] = 1 + ((first * t) + i) % 5;
            }
        };
        cpu.Products.Step(logDecoder, t, cpuEncoder, Update(cpuCross), cpuNumerator);
        gpu.Products.Step(logDecoder, t, gpuEncoder, Update(gpuCross), gpuNumerator);
        AssertClose(cpuCross, gpuCross, "cross term");
        AssertClose(cpuNumerator, gpuNumerator, "numerator");
    }

    [Fact]
    public void A_device_chunk_is_a_32nd_of_its_memory_within_bounds()
    {
        Assert.Equal(128L << 20, IlgpuConditionalIbProducts.DefaultChunkBytes(1L << 30));
        Assert.Equal(256L << 20, IlgpuConditionalIbProducts.DefaultChunkBytes(8L << 30));
        Assert.Equal(1L << 30, IlgpuConditionalIbProducts.DefaultChunkBytes(141L << 30));
    }

    [Fact]
    public void Bad_rows_are_still_named()
    {
        var engine = fixture.Engine;
        var values = new float[6 * 10];
        values[4 * 10 + 7] = float.NaN;
        using var nan = MemoryRowSource.Float32(values, 10, name: "ctx.npy");
        var e = Assert.Throws<RowSourceException>(() => engine.InformationBottleneck(ConditionalRows.FromLogits(nan), new IbOptions { Clusters = 2 }));
        Assert.StartsWith("ctx.npy: row 4:", e.Message, StringComparison.Ordinal);

        var probabilities = Enumerable.Repeat(0.1f, 5 * 10).ToArray();
        probabilities[2 * 10] = 0.3f;
        using var sums = MemoryRowSource.Float32(probabilities, 10, name: "p.npy");
        Assert.Equal(2, Assert.Throws<RowSourceException>(() => engine.InformationBottleneck(ConditionalRows.FromProbabilities(sums), new IbOptions { Clusters = 2 })).Row);
    }

    [Fact]
    public void CuBlas_and_the_tiled_kernel_agree()
    {
        var engine = fixture.Engine;
        var backend = (IlgpuBackend)engine.Backend;
        Assert.SkipUnless(backend.Accelerator.AcceleratorType == AcceleratorType.Cuda, $"cuBLAS runs on CUDA only; this is {backend.Accelerator.AcceleratorType}.");
        int vocab = 9001;
        using var source = Source("f32", vocab, out _);
        var rows = ConditionalRows.FromLogits(source);
        using var blas = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1), 1, 5L * 4 * vocab, 5L * 4 * vocab, 0, CuBlasChunkProducts.OrTiled, default);
        using var tiled = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1), 1, 5L * 4 * vocab, 5L * 4 * vocab, 0, b => new TiledChunkProducts(b), default);
        Assert.EndsWith("cuBLAS", blas.Products.Name, StringComparison.Ordinal);
        var logDecoder = Enumerable.Range(0, 7 * vocab).Select(i => -1 - (i % 13) * 0.5).ToArray();
        var (a, b) = (Step(blas.Products, logDecoder, 7, out var crossA), Step(tiled.Products, logDecoder, 7, out var crossB));
        AssertClose(crossB, crossA, "cross term");
        AssertClose(b, a, "numerator");
    }

    /// <summary>
    /// A chunk of more rows than the device's grid holds tiles along y (65535 on CUDA: over ~1M rows
    /// at a vocabulary under 256) runs its cross terms in several launches; with the limit at one tile
    /// every tile of rows is its own launch, and the products are the same bits.
    /// </summary>
    [Fact]
    public void The_tiled_cross_terms_run_in_several_launches_where_the_grid_is_short()
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        int vocab = 203;
        using var source = Source("f32", vocab, out _);
        var rows = ConditionalRows.FromLogits(source);
        long chunkBytes = 4L * Rows * vocab;
        using var whole = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, 0, b => new TiledChunkProducts(b), default);
        using var split = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, 0, b => new TiledChunkProducts(b) { MaxGridRows = 1 }, default);
        var logDecoder = Enumerable.Range(0, 3 * vocab).Select(i => -1 - (i % 13) * 0.5).ToArray();
        var (a, b) = (Step(whole.Products, logDecoder, 3, out var crossA), Step(split.Products, logDecoder, 3, out var crossB));
        Assert.Equal(crossA, crossB);
        Assert.Equal(a, b);
    }

    /// <summary>
    /// The cuBLAS path's own calls (operands, transposes, leading dimensions, vocabulary blocks, chunk
    /// offsets), run through BLAS's reference SGEMM in cuBLAS's place, give the tiled kernel's products:
    /// what can be checked of that path without a GPU.
    /// </summary>
    [Fact]
    public void The_cuBlas_calls_under_blas_semantics_match_the_tiled_kernel()
    {
        var backend = (IlgpuBackend)fixture.Engine.Backend;
        Assert.SkipUnless(backend.Accelerator.AcceleratorType == AcceleratorType.CPU, $"the reference SGEMM reads device views as host memory, so it runs on ILGPU's CPU accelerator; this is {backend.Accelerator.AcceleratorType}.");
        Assert.SkipWhen(SmallCasesOnly, "a slow emulated shape: this case runs on ilgpu-cpu.");
        int vocab = 9001;
        using var source = Source("f32", vocab, out _);
        var rows = ConditionalRows.FromLogits(source);
        long chunkBytes = 5L * 4 * vocab;
        using var blas = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, 0,
            b => CuBlasChunkProducts.WithGemm(b, (ta, tb, m, n, k, a, lda, bv, ldb, c, ldc) => ReferenceSgemm(b.Accelerator, ta, tb, m, n, k, a, lda, bv, ldb, c, ldc), "reference SGEMM"), default);
        using var tiled = IlgpuConditionalIbProducts.Problem(backend, rows, Sgemm.Create(1, managedOnly: true), 1, chunkBytes, chunkBytes, 0, b => new TiledChunkProducts(b), default);
        Assert.EndsWith("reference SGEMM", blas.Products.Name, StringComparison.Ordinal);
        var logDecoder = Enumerable.Range(0, 7 * vocab).Select(i => -1 - (i % 13) * 0.5).ToArray();
        var (a, b) = (Step(blas.Products, logDecoder, 7, out var crossA), Step(tiled.Products, logDecoder, 7, out var crossB));
        AssertClose(crossB, crossA, "cross term");
        AssertClose(b, a, "numerator");
    }

    /// <summary>
    /// BLAS's SGEMM, C = op(A)·op(B) column-major (α = 1, β = 0), on views the host can address, with
    /// cuBLAS's argument checks (leading dimensions) and every element it touches checked to lie in its view.
    /// </summary>
    private static unsafe void ReferenceSgemm(Accelerator accelerator, CuBlasOperation transA, CuBlasOperation transB, int m, int n, int k,
        ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc)
    {
        bool ta = transA == CuBlasOperation.Transpose, tb = transB == CuBlasOperation.Transpose;
        Assert.True(m > 0 && n > 0 && k > 0, $"m {m}, n {n}, k {k}");
        Assert.True(lda >= Math.Max(1, ta ? k : m), $"lda {lda} for op(A) [{m}, {k}]");
        Assert.True(ldb >= Math.Max(1, tb ? n : k), $"ldb {ldb} for op(B) [{k}, {n}]");
        Assert.True(ldc >= Math.Max(1, m), $"ldc {ldc} for C [{m}, {n}]");
        Assert.True((ta ? k - 1 + (long)(m - 1) * lda : m - 1 + (long)(k - 1) * lda) < a.Length, "A reaches past its view");
        Assert.True((tb ? n - 1 + (long)(k - 1) * ldb : k - 1 + (long)(n - 1) * ldb) < b.Length, "B reaches past its view");
        Assert.True(m - 1 + (long)(n - 1) * ldc < c.Length, "C reaches past its view");
        accelerator.Synchronize();
        float* pa = (float*)a.LoadEffectiveAddressAsPtr(), pb = (float*)b.LoadEffectiveAddressAsPtr(), pc = (float*)c.LoadEffectiveAddressAsPtr();
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                double sum = 0;
                for (int l = 0; l < k; l++)
                {
                    sum += (double)(ta ? pa[l + (long)i * lda] : pa[i + (long)l * lda]) * (tb ? pb[j + (long)l * ldb] : pb[l + (long)j * ldb]);
                }

                pc[i + (long)j * ldc] = (float)sum;
            }
        }
    }

    /// <summary>A fused pass whose update writes a fixed softmax of the cross terms; returns the numerator and the cross terms seen.</summary>
    private static double[] Step(IIbProducts products, double[] logDecoder, int t, out double[] cross)
    {
        var seen = new double[Rows * t];
        var encoder = new double[Rows * t];
        var numerator = new double[logDecoder.Length];
        products.Step(logDecoder, t, encoder, (first, rows, chunk, output) =>
        {
            chunk.AsSpan(0, rows * t).CopyTo(seen.AsSpan(first * t));
            for (int i = 0; i < rows * t; i++)
            {
                output[(first * t) + i] = 1 + ((first * t) + i) % 3 + Math.Tanh(chunk[i] * 1e-3);
            }
        }, numerator);
        cross = seen;
        return numerator;
    }

    /// <summary>Rows of one kind with a few -inf logits (zeros for probability rows) in columns listed in <paramref name="minusInfinity"/>.</summary>
    private static MemoryRowSource Source(string kind, int vocab, out int[] minusInfinity)
    {
        var rng = new Random(vocab);
        var values = Enumerable.Range(0, Rows * vocab).Select(_ => (float)(3 * rng.NextDouble() - 1.5)).ToArray();
        minusInfinity = [1, vocab - 1];
        for (int i = 0; i < Rows; i++)
        {
            foreach (int y in minusInfinity)
            {
                values[i * vocab + y] = float.NegativeInfinity;
            }

            values[i * vocab + 3 + (i % 5)] = float.NegativeInfinity;
        }

        switch (kind)
        {
            case "f16":
                return MemoryRowSource.Float16(values.Select(v => (Half)v).ToArray(), vocab);
            case "bf16":
                return MemoryRowSource.BFloat16(values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray(), vocab);
            case "probs":
                for (int i = 0; i < Rows; i++)
                {
                    var p = PlantedLogits.Softmax(values.AsSpan(i * vocab, vocab), 1);
                    for (int j = 0; j < vocab; j++)
                    {
                        values[i * vocab + j] = (float)p[j];
                    }
                }

                return MemoryRowSource.Float32(values, vocab);
            default:
                return MemoryRowSource.Float32(values, vocab);
        }
    }

    /// <summary>float32 products summed in a different order: ~1e-6 relative; log 0 (-1e300 vs -1e30 in float32) floors alike.</summary>
    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            bool floored = expected[i] < -1e20;
            Assert.True(
                floored ? actual[i] < -1e20 : Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]) + 1e-7 * scale,
                $"{what} {i}: {actual[i]} on the device vs {expected[i]} on the CPU");
        }
    }
}

public sealed class IlgpuCpuRowsIbKernelTests(IlgpuCpuFixture f) : RowsIbKernelTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class IlgpuCpuNvidiaRowsIbKernelTests(IlgpuCpuNvidiaFixture f) : RowsIbKernelTests(f), IClassFixture<IlgpuCpuNvidiaFixture>
{
    protected override bool SmallCasesOnly => true;
}

public sealed class CudaRowsIbKernelTests(CudaFixture f) : RowsIbKernelTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClRowsIbKernelTests(OpenClFixture f) : RowsIbKernelTests(f), IClassFixture<OpenClFixture>;
