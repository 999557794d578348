#!/bin/bash
# A corpus as .jsonl and as .parquet (benchmarks/results/2026-12-07-parquet-text-cpu-2core/README.md).
# CORPUS: the 300 MB .jsonl of benchmarks/results/2026-12-07-tokenized-corpus-cpu-2core; NODE_PATH: where
# parquet-wasm and apache-arrow are installed (to_parquet.mjs).
set -u
HERE=$(dirname "$(realpath "$0")")
CLI=${CLI:-src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli}
CLI=$(realpath "$CLI")
C=${CORPUS:-/tmp/corpus300.jsonl}
OUT=${OUT:-/tmp/pqbench}
mkdir -p $OUT
convert() { [ -f $OUT/$1.parquet ] || NODE_PATH=${NODE_PATH:-/tmp/pqjs/node_modules} node --max-old-space-size=12000 $HERE/to_parquet.mjs $C $OUT/$1.parquet $2 $3; }
convert c300_SNAPPY SNAPPY 1000
convert c300_ZSTD ZSTD 1000
convert c300_one SNAPPY 1000000 # one row group, as pandas (pyarrow's 1M-row default) writes it
ls -la $C $OUT/*.parquet
t() { local name=$1; shift; /usr/bin/time -f "$name wall %e s, peak RSS %M KB" -o $OUT/$name.time "$@" > $OUT/$name.json 2> $OUT/$name.err; cat $OUT/$name.time; }
for run in 1 2; do
  t jsonl_$run $CLI tokenize --tokenizer gpt2 --text $C --json
  for codec in SNAPPY ZSTD; do t parquet_${codec}_$run $CLI tokenize --tokenizer gpt2 --text $OUT/c300_$codec.parquet --json; done
  t parquet_one_$run $CLI tokenize --tokenizer gpt2 --text $OUT/c300_one.parquet --json
done
python3 - $OUT <<'PY'
import json, sys
out = sys.argv[1]
runs = {n: json.load(open(f"{out}/{n}.json")) for n in ["jsonl_1", "parquet_SNAPPY_1", "parquet_ZSTD_1", "parquet_one_1"]}
for field in ["documents", "tokens", "chars", "bytes", "bytes_counted", "words_counted", "first_ids"]:
    values = {n: r[field] for n, r in runs.items()}
    print(field, "same" if len({json.dumps(v) for v in values.values()}) == 1 else f"DIFFER {values}")
PY
