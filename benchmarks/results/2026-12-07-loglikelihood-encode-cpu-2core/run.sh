#!/usr/bin/env bash
# Before/after of loglikelihood's request encoding: BEFORE and AFTER name the two builds' GpuInfo.Cli.
set -euo pipefail
models=tests/GpuInfo.Tests/Models
for round in 1 2; do
  for build in before after; do
    cli=$([ $build = before ] && echo "$BEFORE" || echo "$AFTER")
    # MMLU-sized: 14,042 four-choice documents of 5-shot-length contexts (synthetic), the tests' BPE and bigram model.
    /usr/bin/time -f "%e s %M KB" -o /tmp/encbench/t.txt "$cli" loglikelihood --model $models/bigram.onnx --tokenizer $models/vocab.json \
      --samples /tmp/mmlu_like.jsonl --prefix-token 7 --context 2048 --device cpu --json > /tmp/encbench/mmlu-$build-$round.json
    echo "mmlu $build round $round: $(grep -E '"tokenize_seconds"' /tmp/encbench/mmlu-$build-$round.json | tr -d ' ,') wall $(cat /tmp/encbench/t.txt)"
    # LAMBADA-sized: 5153 passages, gpt2, the synthetic 50k model with logits_to_keep.
    /usr/bin/time -f "%e s %M KB" -o /tmp/encbench/t.txt "$cli" loglikelihood --model /tmp/bench50k_keep.onnx --tokenizer gpt2 \
      --text /tmp/lambada_like.jsonl --context 1024 --device cpu --batch 8 --bootstrap-iters 0 --json > /tmp/encbench/lambada-$build-$round.json
    echo "lambada $build round $round: $(grep -E '"tokenize_seconds"' /tmp/encbench/lambada-$build-$round.json | tr -d ' ,') wall $(cat /tmp/encbench/t.txt)"
  done
done
