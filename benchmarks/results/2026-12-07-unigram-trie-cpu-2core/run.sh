#!/bin/bash
# Unigram encoding before (BEFORE: a build of 730316f) and after (AFTER), alternated, on the 250,420-piece Unigram .model.
# MODEL: a synthetic SentencePiece Unigram of 250,420 pieces (made for the 2026-12-06 SentencePiece check by proto edits);
# CORPUS: the first 800 lines of ../2026-12-07-corpus-text-cpu-2core's corpus (8 MB).
set -u
for r in 1 2 3; do for b in before after; do
  CLI=$([ $b = before ] && echo $BEFORE || echo $AFTER)
  /usr/bin/time -f "wall %e s, peak RSS %M KB" -o /tmp/unigram_$b.time $CLI tokenize --tokenizer ${MODEL:-/tmp/spt/big_unigram.model} --text ${CORPUS:-/tmp/c8.jsonl} --out /tmp/unigram_$b.safetensors --json > /tmp/unigram_$b.json
  echo "$b $(python3 -c "import json; r=json.load(open('/tmp/unigram_$b.json')); print(r['tokens'], r['bytes_counted'], r['words_counted'], r['tokenize_seconds'])") $(cat /tmp/unigram_$b.time)"
done; done
