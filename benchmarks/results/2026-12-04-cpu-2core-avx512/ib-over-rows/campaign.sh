#!/bin/bash
# usage: campaign2.sh FILE CLUSTERS ITERS ROUNDS PEER_REPEAT "RESIDENT_MIB_LIST" "PEER_CHUNKS"
F=$1; K=$2; IT=$3; R=$4; PR=$5; RES=$6; PC=$7
CLI=/work/main/src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli
for round in $(seq 1 $R); do
  for m in $RES; do
    /usr/bin/time -f "%M" -o /tmp/rss.txt flock /tmp/measure.lock $CLI ib --logits $F --beta 10 --clusters $K --max-iterations $IT --tolerance 1e-15 --device cpu --json --resident-mib $m 2>/dev/null | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('gpuinfo-resident-mib-$m', d['seconds_per_iteration'], d['products'], end=' ')"; echo "peak_rss_kb $(cat /tmp/rss.txt)"
  done
  for cr in $PC; do
    OPENBLAS_NUM_THREADS=2 flock /tmp/measure.lock /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --logits $F --clusters $K --repeat $PR --chunk-rows $cr | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('numpy-chunk-rows-$cr', round(d['seconds_median'],4), round(d['seconds_min'],4))"
  done
  OPENBLAS_NUM_THREADS=2 flock /tmp/measure.lock /usr/bin/python3 /work/main/benchmarks/peer/ib_peer.py --gemm 4096 | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('gemm4096-gflops', round(d['gflops'],1))"
done
