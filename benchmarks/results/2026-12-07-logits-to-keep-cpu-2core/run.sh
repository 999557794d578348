#!/bin/bash
# The same synthetic 50,257-class model exported without and with transformers' logits_to_keep input
# (benchmarks/models/make_bench_model.py, the same seed: the same weights), scored by gpuinfo, which asks the
# second for the logits of the positions each batch scores only. Passages: ../2026-12-07-loglikelihood-cpu-2core/run.sh.
set -e
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
OUT=$(dirname "$0")
/usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k.onnx --vocab 50257
/usr/bin/python3 benchmarks/models/make_bench_model.py /tmp/bench50k_keep.onnx --vocab 50257 --logits-to-keep
head -500 /tmp/lambada_like.jsonl > /tmp/lambada500.jsonl
head -300 /tmp/lambada_like.jsonl > /tmp/text300.jsonl
for m in bench50k bench50k_keep; do
  tag=$([ $m = bench50k ] && echo all_logits || echo keep)
  /usr/bin/time -f "%e s %M KB" "$CLI" loglikelihood --model /tmp/$m.onnx --tokenizer gpt2 --text /tmp/lambada500.jsonl --json > "$OUT/loglikelihood_$tag.json"
  /usr/bin/time -f "%e s %M KB" "$CLI" perplexity --model /tmp/$m.onnx --tokenizer gpt2 --text /tmp/text300.jsonl --text-join ' ' --context 1024 --stride 512 --json > "$OUT/sliding_$tag.json"
  /usr/bin/time -f "%e s %M KB" "$CLI" perplexity --model /tmp/$m.onnx --tokenizer gpt2 --text /tmp/text300.jsonl --text-join ' ' --context 512 --protocol chunks --json > "$OUT/chunks_$tag.json"
done
