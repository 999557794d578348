#!/bin/bash
# SentencePiece-style BPE tokenize times, before and after (benchmarks/results/2026-12-07-sentencepiece-merges-cpu-2core/README.md).
# OLD: a build of the commit before (git clone; dotnet build -c Release); NEW: this checkout's build.
# TEXT: the 40 MB .jsonl of benchmarks/results/2026-12-07-tokenize-by-ids-cpu-2core.
set -u
OLD=${OLD:?give OLD=path/to/GpuInfo.Cli of the commit before}
NEW=${NEW:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
TEXT=${TEXT:-/tmp/c40.jsonl}
M=${M:-$HOME/.cache/gpuinfo/tokenizers/node_modules/@lenml}
OUT=${OUT:-/tmp/spbench}
mkdir -p $OUT
for t in llama2 gemma gemma3 yi internlm2 baichuan2; do
  for rep in 1 2; do
    for v in OLD NEW; do
      ${!v} tokenize --tokenizer $M/tokenizer-$t/models/tokenizer.json --text $TEXT --json > $OUT/${t}_${v}_$rep.json
      python3 -c "import json; r = json.load(open('$OUT/${t}_${v}_$rep.json')); print('$t $v $rep', r['tokens'], r['bytes_counted'], r['words_counted'], r['load_seconds'], r['tokenize_seconds'], r['mb_per_second'])"
    done
  done
done
