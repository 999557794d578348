#!/bin/bash
# Tokenize once vs every shard (benchmarks/results/2026-12-07-tokenized-corpus-cpu-2core/README.md).
# MODEL: /usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k.onnx --vocab 50257
set -u
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
CLI=$(realpath "$CLI")
C=${CORPUS:-/tmp/corpus300.jsonl}
MODEL=${MODEL:-/tmp/bench50k.onnx}
OUT=${OUT:-/tmp/tcbench}
mkdir -p $OUT; cd $OUT
t() { local name=$1; shift; /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o $OUT/$name.time "$@" > $OUT/$name.json 2> $OUT/$name.err; cat $OUT/$name.time; }
t tokenize_count $CLI tokenize --tokenizer gpt2 --text $C --json
t tokenize_out $CLI tokenize --tokenizer gpt2 --text $C --out $OUT/c300.safetensors --json
ls -la $OUT/c300.safetensors
for proto in sliding rolling; do
  t shard_text_$proto $CLI perplexity --model $MODEL --protocol $proto --text $C --tokenizer gpt2 --shard 0/100000 --json
  t shard_tokens_$proto $CLI perplexity --model $MODEL --protocol $proto --tokens $OUT/c300.safetensors --shard 0/100000 --json
done
