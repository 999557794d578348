#!/bin/bash
# gpuinfo loglikelihood with --batch B: requests run longest window first (as lm-evaluation-harness's Hugging Face model
# batches them) against the commit before, which batched them in the order given; 500 and 5153 LAMBADA-shaped passages
# (/tmp/lambada_like.jsonl, made by ../2026-12-07-loglikelihood-cpu-2core/run.sh), the synthetic 50,257-class models
# (benchmarks/models/make_bench_model.py, with and without --logits-to-keep), CPU provider, 2 cores.
# OLD: the CLI built at af1c015 (before; nothing up to 6f83108 touches batching); NEW: this commit's (aff3324).
set -e
OLD=${OLD:-/tmp/cli/GpuInfo.Cli}
NEW=${NEW:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
OUT=$(dirname "$0")
head -500 /tmp/lambada_like.jsonl > /tmp/lambada500.jsonl
run() { # label cli model text batch
  "$2" loglikelihood --model "$3" --tokenizer gpt2 --text "$4" --batch "$5" --bootstrap-iters 0 --json > "$OUT/$1.json"
  echo "$1: $(python3 -c "import json,sys; r=json.load(open('$OUT/$1.json')); print(r['seconds'], 's, model', r['model_seconds'], 's, perplexity', r['perplexity'])")" | tee -a "$OUT/summary.txt"
}
: > "$OUT/summary.txt"
for m in keep full; do
  model=/tmp/bench50k_keep.onnx; [ $m = full ] && model=/tmp/bench50k.onnx
  run "500_${m}_batch8_before" "$OLD" $model /tmp/lambada500.jsonl 8
  run "500_${m}_batch8_longest_first" "$NEW" $model /tmp/lambada500.jsonl 8
  run "500_${m}_batch1" "$NEW" $model /tmp/lambada500.jsonl 1
done
for b in 1 8 16; do run "5153_keep_batch$b" "$NEW" /tmp/bench50k_keep.onnx /tmp/lambada_like.jsonl $b; done
