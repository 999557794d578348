#!/usr/bin/env bash
# Before/after of running a window once for requests that feed the model the same tokens: BEFORE and AFTER name the builds' GpuInfo.Cli.
set -euo pipefail
for round in 1 2; do
  for build in before after; do
    cli=$([ $build = before ] && echo "$BEFORE" || echo "$AFTER")
    /usr/bin/time -f "%e s %M KB" -o /tmp/sharebench/t.txt "$cli" loglikelihood --model /tmp/bench50k_keep.onnx --tokenizer gpt2 \
      --text /tmp/mmlu_small.jsonl --text-field context --choices-field choices --context 1024 --device cpu --json > /tmp/sharebench/$build-$round.json
    echo "$build round $round: $(grep -E '"(model_seconds|acc)"' /tmp/sharebench/$build-$round.json | tr -d ' \n') wall $(cat /tmp/sharebench/t.txt)"
  done
done
