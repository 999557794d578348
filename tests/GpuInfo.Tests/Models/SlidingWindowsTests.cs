using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>The window arithmetic against a literal transcription of the Hugging Face guide's loop.</summary>
public sealed class SlidingWindowsTests
{
    /// <summary>(token, window, position) for every scored token, in the guide's order: begin += stride, trg_len = end − prev_end, labels shifted by one.</summary>
    private static List<(long Token, int Window, int Position)> GuideLoop(int n, int context, int stride)
    {
        var scored = new List<(long, int, int)>();
        int prevEnd = 0, k = 0;
        for (int begin = 0; begin < n; begin += stride, k++)
        {
            int end = Math.Min(begin + context, n);
            int trgLen = end - prevEnd;
            for (int label = Math.Max(end - trgLen, begin + 1); label < end; label++)
            {
                scored.Add((label, k, label - begin - 1));
            }

            prevEnd = end;
            if (end == n)
            {
                break;
            }
        }

        return scored;
    }

    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(10, 4, 4)]
    [InlineData(33, 32, 32)]
    [InlineData(100, 16, 5)]
    [InlineData(100, 16, 1)]
    [InlineData(7, 16, 8)]
    [InlineData(1000, 64, 63)]
    [InlineData(1001, 64, 64)]
    public void Rows_are_the_guides_scored_tokens_in_order(int n, int context, int stride)
    {
        var expected = GuideLoop(n, context, stride);
        var windows = new SlidingWindows(n, context, stride);
        Assert.Equal(expected.Count, windows.Rows);
        for (int r = 0; r < expected.Count; r++)
        {
            var (k, position) = windows.Locate(r);
            Assert.Equal((expected[r].Window, expected[r].Position), (k, position));
            Assert.Equal(expected[r].Token, windows.TokenOfRow(r));
        }

        if (stride < context)
        {
            Assert.Equal(n - 1, windows.Rows);
        }
    }

    [Fact]
    public void Bad_windows_name_the_argument()
    {
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingWindows(1, 4, 2)).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingWindows(10, 1, 1)).ParamName);
        Assert.Equal("stride", Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingWindows(10, 4, 5)).ParamName);
        Assert.Equal("stride", Assert.Throws<ArgumentOutOfRangeException>(() => new SlidingWindows(10, 4, 0)).ParamName);
    }
}
