namespace GpuInfo.Tests.Measures;

// The SIMD CPU path takes realistic shapes, up to a 128k vocabulary.
public sealed class SimdCpuRowMeasureTests(SimdCpuFixture f) : RowMeasureTests(f), IClassFixture<SimdCpuFixture>
{
    protected override Shape[] Shapes => [new(37, 50257), new(5, 128_003), new(64, 1009)];

    protected override Shape Wide => new(3, 100_003);
}

public sealed class SimdCpuEdgeCaseTests(SimdCpuFixture f) : EdgeCaseTests(f), IClassFixture<SimdCpuFixture>;

// The same path on 8 lanes (machines without AVX-512), run on any machine.
public sealed class SimdCpu8LaneRowMeasureTests(SimdCpu8LaneFixture f) : RowMeasureTests(f), IClassFixture<SimdCpu8LaneFixture>
{
    protected override Shape[] Shapes => [new(37, 50257), new(64, 1009)];

    protected override Shape Wide => new(3, 100_003);
}

public sealed class SimdCpu8LaneEdgeCaseTests(SimdCpu8LaneFixture f) : EdgeCaseTests(f), IClassFixture<SimdCpu8LaneFixture>;

// ILGPU's CPU accelerator simulates a GPU thread by thread: small shapes keep CI fast.
public sealed class IlgpuCpuRowMeasureTests(IlgpuCpuFixture f) : RowMeasureTests(f), IClassFixture<IlgpuCpuFixture>
{
    protected override Shape[] Shapes => [new(6, 3001), new(3, 1037)];

    protected override Shape Wide => new(2, 6007);
}

public sealed class IlgpuCpuEdgeCaseTests(IlgpuCpuFixture f) : EdgeCaseTests(f), IClassFixture<IlgpuCpuFixture>;

/// <summary>
/// The rule for a masked entry in an NVIDIA GPU's warp and group sizes, where a thread's first entry
/// and its running max differ from the default accelerator's. Four rows: the CPU accelerator takes
/// about 1.4 s a row at groups of 512 (the whole edge-case class took 10.6 min).
/// </summary>
public sealed class IlgpuCpuNvidiaMaskedKlTests(IlgpuCpuNvidiaFixture f) : IClassFixture<IlgpuCpuNvidiaFixture>
{
    [Fact]
    public void A_masked_entry_is_judged_against_the_rows_max_in_groups_of_512() =>
        EdgeCaseTests.CheckMaskedEntries(f.Engine, 1f, 0f, [-95f, -103.5f], [0]);
}


// Real GPUs: skipped with the reason when this machine has none.
public sealed class CudaRowMeasureTests(CudaFixture f) : RowMeasureTests(f), IClassFixture<CudaFixture>
{
    protected override Shape[] Shapes => [new(37, 50257), new(5, 128_003), new(64, 1009)];

    protected override Shape Wide => new(3, 256_000);
}

public sealed class CudaEdgeCaseTests(CudaFixture f) : EdgeCaseTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClRowMeasureTests(OpenClFixture f) : RowMeasureTests(f), IClassFixture<OpenClFixture>
{
    protected override Shape[] Shapes => [new(37, 50257), new(5, 128_003), new(64, 1009)];

    protected override Shape Wide => new(3, 256_000);
}

public sealed class OpenClEdgeCaseTests(OpenClFixture f) : EdgeCaseTests(f), IClassFixture<OpenClFixture>;

// Each row's confidence and Brier score (the finish kernels' outputs) on every backend.
public sealed class SimdCpuCalibrationMeasureTests(SimdCpuFixture f) : CalibrationMeasureTests(f), IClassFixture<SimdCpuFixture>
{
    protected override Shape Shape => new(131, 1531);

    protected override Shape Wide => new(9, 100_003);
}

public sealed class SimdCpu8LaneCalibrationMeasureTests(SimdCpu8LaneFixture f) : CalibrationMeasureTests(f), IClassFixture<SimdCpu8LaneFixture>
{
    protected override Shape Shape => new(131, 1531);

    protected override Shape Wide => new(9, 100_003);
}

public sealed class IlgpuCpuCalibrationMeasureTests(IlgpuCpuFixture f) : CalibrationMeasureTests(f), IClassFixture<IlgpuCpuFixture>
{
    protected override Shape Shape => new(67, 1531);

    protected override Shape Wide => new(9, 6007);
}

public sealed class CudaCalibrationMeasureTests(CudaFixture f) : CalibrationMeasureTests(f), IClassFixture<CudaFixture>
{
    protected override Shape Shape => new(131, 50257);

    protected override Shape Wide => new(9, 256_000);
}

public sealed class OpenClCalibrationMeasureTests(OpenClFixture f) : CalibrationMeasureTests(f), IClassFixture<OpenClFixture>
{
    protected override Shape Shape => new(131, 50257);

    protected override Shape Wide => new(9, 256_000);
}

// Each row's total variation distance (the second pair pass's other output) on every backend.
public sealed class SimdCpuTotalVariationTests(SimdCpuFixture f) : TotalVariationTests(f), IClassFixture<SimdCpuFixture>
{
    protected override Shape Shape => new(131, 1531);

    protected override Shape Wide => new(9, 100_003);
}

public sealed class SimdCpu8LaneTotalVariationTests(SimdCpu8LaneFixture f) : TotalVariationTests(f), IClassFixture<SimdCpu8LaneFixture>
{
    protected override Shape Shape => new(131, 1531);

    protected override Shape Wide => new(9, 100_003);
}

public sealed class IlgpuCpuTotalVariationTests(IlgpuCpuFixture f) : TotalVariationTests(f), IClassFixture<IlgpuCpuFixture>
{
    protected override Shape Shape => new(67, 1531);

    protected override Shape Wide => new(9, 6007);
}

public sealed class CudaTotalVariationTests(CudaFixture f) : TotalVariationTests(f), IClassFixture<CudaFixture>
{
    protected override Shape Shape => new(131, 50257);

    protected override Shape Wide => new(9, 256_000);
}

public sealed class OpenClTotalVariationTests(OpenClFixture f) : TotalVariationTests(f), IClassFixture<OpenClFixture>
{
    protected override Shape Shape => new(131, 50257);

    protected override Shape Wide => new(9, 256_000);
}
