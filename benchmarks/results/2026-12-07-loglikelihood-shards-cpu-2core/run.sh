#!/bin/bash
# gpuinfo loglikelihood over 5153 LAMBADA-shaped passages, whole and as 2 shards (run one after the other on the same
# 2 cores, as two jobs of an array would run side by side), then merge of the shards' partials.
# /tmp/lambada_like.jsonl: made by ../2026-12-07-loglikelihood-cpu-2core/run.sh.
# MODEL: /usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k_keep.onnx --vocab 50257 --logits-to-keep
set -e
MODEL=${MODEL:-/tmp/bench50k_keep.onnx}
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
OUT=$(dirname "$0")
rm -rf /tmp/lambada_parts
"$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada_like.jsonl --per-document /tmp/lambada_whole.jsonl --json > "$OUT/whole.json"
for i in 0 1; do
  "$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada_like.jsonl --shard $i/2 --partial-dir /tmp/lambada_parts \
    --per-document /tmp/lambada_shard$i.jsonl --json > "$OUT/shard$i.json"
done
/usr/bin/time -f "merge: %e s, %M KB peak" "$CLI" merge /tmp/lambada_parts --json > "$OUT/merged.json" 2> "$OUT/merge_time.txt"
ls -l /tmp/lambada_parts > "$OUT/partials.txt"
cat /tmp/lambada_shard0.jsonl /tmp/lambada_shard1.jsonl | cmp - /tmp/lambada_whole.jsonl && echo "per-document lines of the shards = the whole run's" >> "$OUT/merge_time.txt"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
whole, merged = json.load(open(f"{out}/whole.json")), json.load(open(f"{out}/merged.json"))
how = {"seconds", "tokens_per_second", "load_seconds", "tokenize_seconds", "model_seconds", "other_seconds", "outside_model_fraction", "device", "provider", "partials"}
same = [k for k in whole if k not in how and whole[k] == merged.get(k)]
differ = [k for k in whole if k not in how and whole[k] != merged.get(k)]
with open(f"{out}/merge_time.txt", "a") as f:
    f.write(f"figures equal to the whole run's: {len(same)} ({', '.join(same)}); differing: {differ}\n")
PY
