# usage: ab2.sh FILE K ITERS ROUNDS "CHUNKS" PEER_CHUNK_ROWS
F=$1; K=$2; IT=$3; R=$4; CH=$5; PC=$6
for r in $(seq 1 $R); do
  for c in $CH; do
    /usr/bin/time -f "%M" -o /tmp/rss.txt /tmp/cli$c/GpuInfo.Cli ib --logits $F --beta 10 --clusters $K --max-iterations $IT --tolerance 1e-15 --device cpu --json 2>/dev/null | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('gpuinfo-chunk-mib-$c', d['seconds_per_iteration'], end=' ')"; echo "peak_rss_kb $(cat /tmp/rss.txt)"
  done
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --logits $F --clusters $K --repeat 2 --chunk-rows $PC | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('numpy-chunk-rows-$PC', round(d['seconds_median'],4), round(d['seconds_min'],4))"
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --gemm 4096 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('gemm4096-gflops', round(d['gflops'],1))"
done
