#!/bin/bash
# lm-evaluation-harness's bootstrap perplexity_stderr (100000 resamples) over 5153 LAMBADA-shaped requests: gpuinfo
# loglikelihood with and without it (--bootstrap-iters 0), then the harness's own bootstrap_stderr over the
# log-likelihoods gpuinfo wrote (benchmarks/peer/lmeval_bootstrap.py), on the same 2 cores.
# /tmp/lambada_like.jsonl: made by ../2026-12-07-loglikelihood-cpu-2core/run.sh.
# MODEL: /usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k_keep.onnx --vocab 50257 --logits-to-keep
# LMEVAL: lm-evaluation-harness at 4e7e0d47f33b (its lm_eval folder under it).
set -e
MODEL=${MODEL:-/tmp/bench50k_keep.onnx}
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
LMEVAL=${LMEVAL:-/tmp/lmeval}
OUT=$(dirname "$0")
"$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada_like.jsonl --bootstrap-iters 0 --json > "$OUT/no_bootstrap.json"
"$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada_like.jsonl --per-document /tmp/lambada_like_scores.jsonl --json > "$OUT/bootstrap.json"
/usr/bin/python3 benchmarks/peer/lmeval_bootstrap.py "$LMEVAL" /tmp/lambada_like_scores.jsonl 2>/dev/null | tail -1 > "$OUT/lmeval_bootstrap.json"
/usr/bin/python3 benchmarks/peer/lmeval_bootstrap.py "$LMEVAL" /tmp/lambada_like_scores.jsonl 2>/dev/null | tail -1 >> "$OUT/lmeval_bootstrap.json"
