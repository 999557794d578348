#!/bin/bash
# DocumentEncoder pipelining: before (BEFORE) and after (AFTER), alternated: tokenize (counts, --out) and a perplexity shard of c1.jsonl.
set -u
C=${CORPUS:-/tmp/c1.jsonl}
MODEL=${MODEL:-/tmp/bench50k.onnx}
OUT=${OUT:-/tmp/pipe}
t() { local name=$1; shift; /usr/bin/time -f "$name wall %e s, user %U s, sys %S s, peak RSS %M KB" -o $OUT/$name.time "$@" > $OUT/$name.json 2> $OUT/$name.err; cat $OUT/$name.time; }
for round in 1 2 3; do
  for build in before after; do
    CLI=$([ $build = before ] && echo $BEFORE || echo $AFTER)
    t ${build}_count_$round $CLI tokenize --tokenizer gpt2 --text $C --json
    t ${build}_out_$round $CLI tokenize --tokenizer gpt2 --text $C --out $OUT/$build.safetensors --json
    t ${build}_shard_$round $CLI perplexity --model $MODEL --text $C --tokenizer gpt2 --shard 0/100000 --json
  done
done
cmp $OUT/before.safetensors $OUT/after.safetensors && echo "same corpus file"
