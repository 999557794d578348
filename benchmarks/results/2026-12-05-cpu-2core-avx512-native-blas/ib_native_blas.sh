# The IB over rows (issue 16) against the NumPy peer with OpenBLAS's own kernel pick: this VM's
# environment sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512, both unset here for every
# command (GpuInfo, the peer and the matmul rate alike), as the environment's README says to do
# when benchmarking against NumPy. Alternated rounds.
# usage: ib_native_blas.sh CLI_DIR ROUNDS
CLI=$1; R=$2
N="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2"
PEER=/work/main/benchmarks/peer/ib_peer.py
for r in $(seq 1 $R); do
  echo "round $r ($($N OPENBLAS_VERBOSE=2 /usr/bin/python3 -c 'import numpy' 2>&1 | head -1))"
  for shape in "4096 64 8 256 1024" "16384 256 4 2048 4096"; do
    set -- $shape
    $N /usr/bin/time -f "%M" -o /tmp/rss.txt $CLI/GpuInfo.Cli ib --logits /tmp/ib_$1.npy --beta 10 --clusters $2 --max-iterations $3 --tolerance 1e-15 --device cpu --json 2>/dev/null \
      | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  $1x$2 gpuinfo s/iteration', d['seconds_per_iteration'], 'products', d['products_seconds_per_iteration'], '|', d['products'], end=' | ')"; echo "peak_rss_kb $(cat /tmp/rss.txt)"
    for pc in $4 $5; do
      $N /usr/bin/python3 $PEER --logits /tmp/ib_$1.npy --clusters $2 --repeat 2 --chunk-rows $pc \
        | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  $1x$2 numpy-float32 chunk-rows $pc median', round(d['seconds_median'],4), 'min', round(d['seconds_min'],4))"
    done
  done
  $N /usr/bin/python3 $PEER --gemm 4096 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('  gemm 4096 GFLOP/s', round(d['gflops'],1))"
done
