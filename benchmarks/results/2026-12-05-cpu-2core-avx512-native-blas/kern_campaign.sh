# usage: kern_campaign.sh FILE K ITERS ROUNDS PEER_CHUNK_ROWS CLI_DIR
F=$1; K=$2; IT=$3; R=$4; PC=$5; CLI=$6
for r in $(seq 1 $R); do
  for e in haswell native; do
    if [ $e = native ]; then P="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"; else P="env"; fi
    echo "round $r kernels $e ($($P OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import numpy' 2>&1 | head -1))"
    $P /usr/bin/time -f "%M" -o /tmp/rss.txt $CLI/GpuInfo.Cli ib --logits $F --beta 10 --clusters $K --max-iterations $IT --tolerance 1e-15 --device cpu --json 2>/dev/null | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  gpuinfo', d['seconds_per_iteration'], 'products', d['products_seconds_per_iteration'], end=' ')"; echo "peak_rss_kb $(cat /tmp/rss.txt)"
    $P OPENBLAS_NUM_THREADS=2 /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --logits $F --clusters $K --repeat 2 --chunk-rows $PC | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  numpy-chunk-rows-$PC', round(d['seconds_median'],4), round(d['seconds_min'],4))"
    $P OPENBLAS_NUM_THREADS=2 /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --gemm 4096 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  gemm4096-gflops', round(d['gflops'],1))"
  done
done
