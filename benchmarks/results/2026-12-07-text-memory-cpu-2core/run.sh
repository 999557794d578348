#!/bin/bash
# perplexity --text's peak memory, before (BEFORE: a build of 8bc61c4) and after (AFTER), one shard of corpus300 under both protocols.
# MODEL: /usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k.onnx --vocab 50257; CORPUS: see ../2026-12-07-corpus-text-cpu-2core/README.md
set -u
C=${CORPUS:-/tmp/corpus300.jsonl}
MODEL=${MODEL:-/tmp/bench50k.onnx}
OUT=${OUT:-/tmp/mem48}
t() { local name=$1; shift; /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o $OUT/$name.time "$@" > $OUT/$name.json 2> $OUT/$name.err; cat $OUT/$name.time; }
for round in 1 2; do
for proto in sliding rolling; do
  for build in before after; do
    CLI=$([ $build = before ] && echo $BEFORE || echo $AFTER)
    t ${build}_${proto}_$round $CLI perplexity --model $MODEL --protocol $proto --text $C --tokenizer gpt2 --shard 0/100000 --json
  done
done
done
