using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// c = a·bᵀ for row-major a [m, k] and b [n, k] (both contiguous along the summed axis): the shape
/// of both Information Bottleneck updates. Square tiles of tile × tile threads stage a block of a
/// and of b in (dynamic) shared memory per step along k; loads are coalesced along k. The tile size
/// comes from the accelerator (ILGPU's CPU accelerator allows 16 threads a group, so 4 × 4 there).
/// Launch with a 2D grid of (ceil(n/tile), ceil(m/tile)) groups of (tile, tile) threads and
/// 2·tile² floats of dynamic shared memory.
/// </summary>
public static class MatrixProductKernel
{
    public static void MultiplyTransposed(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k)
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
        }

        if (row < m && col < n)
        {
            c[(long)row * n + col] = acc;
        }
    }
}
