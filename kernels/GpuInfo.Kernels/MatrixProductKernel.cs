using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// c = a·bᵀ for row-major a [m, k] and b [n, k] (both contiguous along the summed axis), float32 sums
/// over blocks of k added in float64: the shape of both Information Bottleneck updates over a dense
/// joint, and of the cross terms over rows. c += aᵀ·b for a [k, m] and b [k, n] is the decoder
/// numerator of a chunk of rows, accumulated in a float64 c. Square tiles of tile × tile threads stage a block of a
/// and of b in (dynamic) shared memory per step along k; loads are coalesced along k. The tile size
/// comes from the accelerator (ILGPU's CPU accelerator allows 16 threads a group, so 4 × 4 there).
/// Launch with a 2D grid of (ceil(n/tile), ceil(m/tile)) groups of (tile, tile) threads and
/// 2·tile² floats of dynamic shared memory.
/// </summary>
public static class MatrixProductKernel
{
    /// <summary>
    /// c = a·bᵀ into float64: each thread's float32 sum is added to a float64 total every
    /// <paramref name="block"/> columns of k (a multiple of the tile; k rounded up to the tile for one
    /// float32 sum over all of k, as the dense products use it), as the CPU path sums float32
    /// products over vocabulary blocks.
    /// </summary>
    public static void MultiplyTransposedBlocked(ArrayView<float> a, ArrayView<float> b, ArrayView<double> c, int m, int n, int k, int block)
    {
        int tile = Group.DimX;
        int tx = Group.IdxX, ty = Group.IdxY;
        var shared = SharedMemory.GetDynamic<float>();
        var tileA = shared.SubView(0, tile * tile);
        var tileB = shared.SubView(tile * tile, tile * tile);
        int row = Grid.IdxY * tile + ty;
        int col = Grid.IdxX * tile + tx;
        int loadB = Grid.IdxX * tile + ty;
        float acc = 0f;
        double total = 0;
        for (int k0 = 0; k0 < k; k0 += tile)
        {
            int kk = k0 + tx;
            tileA[ty * tile + tx] = row < m && kk < k ? a[(long)row * k + kk] : 0f;
            tileB[ty * tile + tx] = loadB < n && kk < k ? b[(long)loadB * k + kk] : 0f;
            Group.Barrier();
            for (int s = 0; s < tile; s++)
            {
                acc += tileA[ty * tile + s] * tileB[tx * tile + s];
            }

            Group.Barrier();
            if ((k0 + tile) % block == 0)
            {
                total += acc;
                acc = 0f;
            }
        }

        if (row < m && col < n)
        {
            c[(long)row * n + col] = total + acc;
        }
    }

    /// <summary>
    /// c += aᵀ·b for row-major a [k, m] and b [k, n] (both contiguous along the output axes), with the
    /// float32 sum over k added into float64 c [m, n]. Same launch as <see cref="MultiplyTransposedBlocked"/>:
    /// (ceil(n/tile), ceil(m/tile)) groups of (tile, tile) threads, 2·tile² floats of shared memory.
    /// </summary>
    public static void AccumulateTransposedLeft(ArrayView<float> a, ArrayView<float> b, ArrayView<double> c, int m, int n, int k)
    {
        int tile = Group.DimX;
        int tx = Group.IdxX, ty = Group.IdxY;
        var shared = SharedMemory.GetDynamic<float>();
        var tileA = shared.SubView(0, tile * tile);
        var tileB = shared.SubView(tile * tile, tile * tile);
        int row = Grid.IdxY * tile + ty;
        int col = Grid.IdxX * tile + tx;
        int loadA = Grid.IdxY * tile + tx;
        float acc = 0f;
        for (int k0 = 0; k0 < k; k0 += tile)
        {
            int kk = k0 + ty;
            tileA[ty * tile + tx] = kk < k && loadA < m ? a[(long)kk * m + loadA] : 0f;
            tileB[ty * tile + tx] = kk < k && col < n ? b[(long)kk * n + col] : 0f;
            Group.Barrier();
            for (int s = 0; s < tile; s++)
            {
                acc += tileA[s * tile + ty] * tileB[s * tile + tx];
            }

            Group.Barrier();
        }

        if (row < m && col < n)
        {
            c[(long)row * n + col] += acc;
        }
    }

    /// <summary>target[i] += source[i], widening float32 to float64 (the cuBLAS path's float32 products into float64 totals).</summary>
    public static void AddWidened(Index1D i, ArrayView<float> source, ArrayView<double> target) => target[i] += source[i];
}
