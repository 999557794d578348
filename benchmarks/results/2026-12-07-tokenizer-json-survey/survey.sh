#!/bin/bash
# usage: run.sh owner/name   -- processes every */tokenizer.json in HEAD of the mirror
R="$1"; D="/work/.mirror/${R/\//+}/repo"; S=/tmp/survey
[ -d "$D" ] || { echo "nomirror $R"; exit 1; }
touch $S/seen.txt
[ -f $S/results.tsv ] || printf 'repo\tpath\tsha256\tsize\tmodel\tnormalizer\tpre_tokenizer\toutcome\tmessage\trust_equal\tfirst_difference\tids_gpuinfo\tids_rust\tjs\n' > $S/results.tsv
git -C "$D" ls-tree -r -l HEAD | awk -v PAT="${PAT:-(^|/)tokenizer\\.json$}" -F'\t' '{split($1,a," "); if ($2 ~ PAT) print a[4]"\t"$2}' | while IFS=$'\t' read size path; do
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -gt 40000000 ]; then echo "skip-size $R $path $size"; continue; fi
  W=$(mktemp -d $S/work.XXXX)
  git -C "$D" show "HEAD:$path" > $W/tokenizer.json 2>/dev/null
  if head -c 40 $W/tokenizer.json | grep -q "version https://git-lfs"; then echo "lfs $R $path"; rm -rf $W; continue; fi
  meta=$(python3 - "$W/tokenizer.json" <<'PY'
import json,sys
try:
  j=json.load(open(sys.argv[1],encoding='utf-8'))
except Exception as e:
  print("NOTJSON"); sys.exit()
if not isinstance(j,dict) or 'model' not in j or not isinstance(j.get('model'),dict):
  print("NOTHF"); sys.exit()
def t(x):
  if x is None: return "null"
  if not isinstance(x,dict): return "?"
  ty=x.get('type','?')
  for k in ('normalizers','pretokenizers'):
    if k in x: return ty+"["+",".join(t(y) for y in x[k])+"]"
  return ty
m=j['model'].get('type') or ('BPE' if 'merges' in j['model'] else '?')
print(m+"\t"+t(j.get('normalizer'))+"\t"+t(j.get('pre_tokenizer')))
PY
)
  if [ "$meta" = "NOTJSON" ] || [ "$meta" = "NOTHF" ]; then echo "$meta $R $path"; rm -rf $W; continue; fi
  sha=$(sha256sum $W/tokenizer.json | cut -c1-64)
  if grep -q "^$sha" $S/seen.txt; then echo "dup $R $path $(grep "^$sha" $S/seen.txt | head -1 | cut -f2-)"; rm -rf $W; continue; fi
  printf '%s\t%s %s\n' "$sha" "$R" "$path" >> $S/seen.txt
  dir=$(dirname "$path"); cfg="tokenizer_config.json"; [ "$dir" != "." ] && cfg="$dir/tokenizer_config.json"
  hascfg=0
  if git -C "$D" cat-file -e "HEAD:$cfg" 2>/dev/null; then git -C "$D" show "HEAD:$cfg" > $W/tokenizer_config.json; hascfg=1; fi
  timeout 300 ${GPUINFO:-/tmp/gi-cli/GpuInfo.Cli} tokenize --tokenizer $W/tokenizer.json --text $S/text.txt --out $W/ours.npy --json > $W/gi.out 2> $W/gi.err
  rc=$?
  eq=""; fd=""; ng=""; nr=""; js=""; msg=""
  keep=0
  if [ $rc -eq 0 ]; then
    outcome=read
    cfgarg=-; [ $hascfg = 1 ] && cfgarg=$W/tokenizer_config.json
    NODE_PATH=$HOME/.cache/gpuinfo/tokenizers/node_modules timeout 300 node /work/main/benchmarks/tokenizers/compare.mjs $W/tokenizer.json - $S/text.txt $W/ours.npy > $W/cmp.json 2> $W/cmp.err
    read eq fd ng nr js < <(python3 - $W/cmp.json <<'PY'
import json,sys
try: r=json.load(open(sys.argv[1]))
except Exception as e: print("CMPFAIL - - - -"); sys.exit()
ru=r.get('rust',{}); j=r.get('tokenizers_js',{})
fd=ru.get('first_difference'); fds='-' if fd is None else json.dumps(fd,separators=(',',':'))
jss='eq' if j.get('equal') else ('fail' if 'failed' in j else 'diff@%s'%(j.get('first_difference') or {}).get('at'))
print(ru.get('equal'), fds, r.get('ids_gpuinfo'), ru.get('ids'), jss)
PY
)
    [ "$eq" != "True" ] && keep=1
  else
    outcome="rc$rc"; msg=$(head -c 400 $W/gi.err | tr '\t\n' '  ' | sed "s#$W/##g"); keep=1
    js=$(NODE_PATH=$HOME/.cache/gpuinfo/tokenizers/node_modules timeout 300 node $S/rustload.mjs $W/tokenizer.json $S/text.txt 2>&1 | tail -1 | tr '\t' ' ')
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$R" "$path" "${sha:0:12}" "$size" "$meta" "$outcome" "$msg" "$eq" "$fd" "$ng" "$nr" "$js" >> $S/results.tsv
  if [ $keep = 1 ]; then
    K=$S/files/${R/\//+}; [ "$dir" != "." ] && K="$K/$dir"; mkdir -p "$K"
    cp $W/tokenizer.json "$K/"; [ $hascfg = 1 ] && cp $W/tokenizer_config.json "$K/"; cp $W/gi.err "$K/gpuinfo.stderr"; [ -f $W/cmp.json ] && cp $W/cmp.json "$K/compare.json"
  fi
  echo "$R $path [$meta] $outcome $msg eq=$eq $fd g=$ng r=$nr js=$js"
  rm -rf $W
done
