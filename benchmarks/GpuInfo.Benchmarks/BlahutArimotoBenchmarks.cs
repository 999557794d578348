using BenchmarkDotNet.Attributes;

namespace GpuInfo.Benchmarks;

/// <summary>
/// Blahut-Arimoto, 50 iterations each (tolerance 0, so the count is fixed): the capacity of a random
/// channel of 2048 inputs x 8191 outputs, and a rate-distortion point for 2048 source symbols x 2047
/// reproductions (|i - j| distortion) at β = 0.05.
/// </summary>
public class BlahutArimotoBenchmarks
{
    private const int Iterations = 50;
    private double[,] _channel = new double[0, 0];
    private double[] _source = [];
    private double[,] _distortion = new double[0, 0];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        int nx = 2048, ny = 8191;
        _channel = new double[nx, ny];
        for (int i = 0; i < nx; i++)
        {
            double sum = 0;
            for (int j = 0; j < ny; j++)
            {
                sum += _channel[i, j] = rng.Next(5) == 0 ? 0 : rng.NextDouble();
            }

            for (int j = 0; j < ny; j++)
            {
                _channel[i, j] /= sum;
            }
        }

        _source = [.. Enumerable.Range(0, 2048).Select(_ => rng.NextDouble())];
        _distortion = new double[2048, 2047];
        for (int i = 0; i < 2048; i++)
        {
            for (int j = 0; j < 2047; j++)
            {
                _distortion[i, j] = Math.Abs(i - j);
            }
        }
    }

    [Benchmark]
    public double Capacity() => BlahutArimoto.Capacity(_channel, tolerance: 0, maxIterations: Iterations).CapacityBits;

    [Benchmark]
    public double RateDistortion() => BlahutArimoto.RateDistortion(_source, _distortion, beta: 0.05, tolerance: 0, maxIterations: Iterations).RateBits;
}
