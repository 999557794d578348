#!/bin/bash
# gpuinfo loglikelihood over LAMBADA-shaped passages (5153, as lambada_openai's test split; 40-140 words each,
# cut from Debian's /usr/share/common-licenses: the real passages are not on this machine), GPT-2's tokenizer,
# the synthetic 50,257-class model of benchmarks/models/make_bench_model.py, on the CPU provider.
# MODEL: /usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k.onnx --vocab 50257
set -e
MODEL=${MODEL:-/tmp/bench50k.onnx}
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
OUT=$(dirname "$0")
python3 - <<'PY'
import glob, json, random
words = []
for f in sorted(glob.glob('/usr/share/common-licenses/*'))[:40]:
    try: words += open(f, encoding='utf-8').read().split()
    except Exception: pass
random.seed(1)
with open('/tmp/lambada_like.jsonl', 'w') as out:
    for i in range(5153):
        n = random.randint(40, 140)
        s = random.randrange(0, len(words) - n)
        out.write(json.dumps({"text": " ".join(words[s:s + n])}) + "\n")
PY
head -500 /tmp/lambada_like.jsonl > /tmp/lambada500.jsonl
for b in 1 8; do
  /usr/bin/time -f "%e s %M KB" "$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada500.jsonl --batch $b --json > "$OUT/batch${b}_500.json"
done
/usr/bin/time -f "%e s %M KB" "$CLI" loglikelihood --model "$MODEL" --tokenizer gpt2 --text /tmp/lambada_like.jsonl --batch 1 --json > "$OUT/batch1_5153.json"
