#!/bin/bash
# Reruns every tokenizer.json of results.tsv (from the local mirrors) through /tmp/gi-cli2 and the Rust comparison.
export NODE_PATH=$HOME/.cache/gpuinfo/tokenizers/node_modules
S=/tmp/survey; out=$S/rerun.tsv; : > $out
tail -n +2 $S/results.tsv | cut -f1,2 | sort -u | while IFS=$'\t' read repo path; do
  D="/work/.mirror/${repo/\//+}/repo"; W=$(mktemp -d $S/rr.XXXX)
  git -C "$D" show "HEAD:$path" > $W/tokenizer.json 2>/dev/null || { rm -rf $W; continue; }
  dir=$(dirname "$path"); cfg="tokenizer_config.json"; [ "$dir" != "." ] && cfg="$dir/tokenizer_config.json"
  git -C "$D" show "HEAD:$cfg" > $W/tokenizer_config.json 2>/dev/null || rm -f $W/tokenizer_config.json
  if timeout 300 ${GPUINFO:-/tmp/gi-cli2/GpuInfo.Cli} tokenize --tokenizer $W/tokenizer.json --text $S/text.txt --out $W/o.npy > /dev/null 2> $W/err; then
    r=$(timeout 300 node /work/main/benchmarks/tokenizers/compare.mjs $W/tokenizer.json - $S/text.txt $W/o.npy 2>/dev/null | python3 -c "import json,sys; j=json.load(sys.stdin); r=j['rust']; print(('equal' if r['equal'] else 'differs')+'\t'+str(j['ids_gpuinfo'])+'\t'+str(r['ids']))" 2>/dev/null || echo "rust-failed")
    printf '%s\t%s\tread\t%s\n' "$repo" "$path" "$r" >> $out
  else
    printf '%s\t%s\trefused\t%s\n' "$repo" "$path" "$(head -c 300 $W/err | sed 's|.*tokenizer.json: ||' | tr '\t\n' '  ')" >> $out
  fi
  rm -rf $W
done
echo done >> $S/rerun.done
