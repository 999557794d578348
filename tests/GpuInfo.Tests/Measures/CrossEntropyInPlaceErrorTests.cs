namespace GpuInfo.Tests.Measures;

/// <summary>
/// <see cref="InfoEngine.CrossEntropyWithGradientInPlace"/> on an invalid row: the error describes the
/// caller's logits (row, column, value), not the gradient that overwrote them (a +inf at logit 4 was
/// reported as "logit 0 is NaN", an all -inf row as an overflow at temperature 1).
/// </summary>
public abstract class CrossEntropyInPlaceErrorTests(EngineFixture fixture)
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in new[] { "+inf", "nan", "all-inf", "overflow" })
        {
            data.Add(kind, 37);
            data.Add(kind, 5000);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_error_describes_the_input_row(string kind, int vocab)
    {
        var engine = fixture.Engine;
        const int Rows = 3, Bad = 1;
        var x = new float[Rows * vocab];
        var rng = new Random(7);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)rng.NextDouble() * 4f - 2f;
        }

        var row = x.AsSpan(Bad * vocab, vocab);
        float temperature = 1f;
        string expected;
        switch (kind)
        {
            case "+inf":
                row[4] = float.PositiveInfinity;
                expected = "logit 4 is +inf.";
                break;
            case "nan":
                row[vocab - 2] = float.NaN;
                expected = $"logit {vocab - 2} is NaN.";
                break;
            case "all-inf":
                row.Fill(float.NegativeInfinity);
                expected = "every logit is -inf, so no class has any probability.";
                break;
            default:
                row[3] = 3e38f;
                temperature = 1e-3f;
                expected = $"logits overflow float32 when divided by the temperature {temperature}.";
                break;
        }

        // The bad row scored, then ignored (an ignored row's gradient is 0: it was overwritten too).
        foreach (int ignoreTarget in new[] { 2, -100 })
        {
            var logits = (float[])x.Clone();
            int[] targets = [0, ignoreTarget, 1];
            var options = new CrossEntropyOptions { LabelSmoothing = 0.1f, Temperature = temperature };
            var e = Assert.Throws<InvalidInputException>(() => engine.CrossEntropyWithGradientInPlace(logits, vocab, targets, options));
            Assert.Equal(Bad, e.Row);
            Assert.Equal(expected, e.Problem);
        }
    }
}

public sealed class SimdCpuCrossEntropyInPlaceErrorTests(SimdCpuFixture f) : CrossEntropyInPlaceErrorTests(f), IClassFixture<SimdCpuFixture>;

public sealed class IlgpuCpuCrossEntropyInPlaceErrorTests(IlgpuCpuFixture f) : CrossEntropyInPlaceErrorTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaCrossEntropyInPlaceErrorTests(CudaFixture f) : CrossEntropyInPlaceErrorTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClCrossEntropyInPlaceErrorTests(OpenClFixture f) : CrossEntropyInPlaceErrorTests(f), IClassFixture<OpenClFixture>;
