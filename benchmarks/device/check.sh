#!/usr/bin/env bash
# The device check of the CUDA path (issue 13): one short run on a Linux machine with an NVIDIA GPU,
# its driver and Python with PyTorch, but no .NET SDK.
#
#   benchmarks/device/check.sh --prepare     here, with the .NET SDK: self-contained publish of the CLI
#                                            and the test executable into benchmarks/device/publish.tar.xz
#                                            (ignored by git; name it in the device tool's carry)
#   benchmarks/device/check.sh [--out DIR]   on the GPU machine: devices, the CUDA test classes (a skip
#                                            is a failure), gpuinfo bench --device cuda and the PyTorch
#                                            peer (eager and torch.compile) on the same data, one IB
#                                            iteration over rows against cuBLAS and a PyTorch peer, then
#                                            DIR/summary.md and DIR/summary.json (default $OUT or
#                                            benchmarks/device/out)
#   benchmarks/device/check.sh --dry-run     anywhere: prints the plan, runs nothing
#   benchmarks/device/check.sh --rehearse    here, after --prepare: the same run on the CPU (gpuinfo and the
#                                            peers on --device cpu, small shapes, two GPU-free test classes)
#                                            to prove the script itself before device time is spent on it
#   --budget S                               stop starting steps after S seconds (default 540: the device
#                                            tool ends a command at 600), so that the summary is still written
#
# A failed step does not stop the later ones (device time is scarce: one run should measure all it
# can); the slowest and least needed step, torch.compile, runs last. Exit 0 when every step passed; 1 when any failed (all named on the last line); 2 for bad
# arguments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
archive="$here/publish.tar.xz"
mode=run
out="${OUT:-$here/out}"
budget=540
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry ;;
    --rehearse) mode=rehearse ;;
    --out) out="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    *) echo "check.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

device=cuda
shapes="4096x128256 64x256000"
dtypes="f32 bf16"
peer_compiled_ops="cross-entropy,entropy,kl"
ib_shape="16384 50257 256"   # rows, vocab, clusters: issue 16's larger case
corpus_mb=300                # the .jsonl tokenized on every core (step 5)
test_classes='\.Cuda[A-Za-z0-9]*$'
if [ "$mode" = rehearse ]; then
  device=cpu
  shapes="256x50257 16x32000"
  ib_shape="512 50257 16"
  corpus_mb=20
  test_classes='\.(CudaLibrariesTests|PtxCompileTests)$'
fi

if [ "$mode" = prepare ]; then
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  # Both apps in one folder share one copy of the runtime.
  dotnet publish "$root/src/GpuInfo.Cli" -c Release -r linux-x64 --self-contained -o "$stage/app" -v quiet -nologo
  dotnet publish "$root/tests/GpuInfo.Tests" -c Release -r linux-x64 --self-contained -o "$stage/app" -v quiet -nologo
  XZ_OPT="-6 -T0" tar -C "$stage" -cJf "$archive" app
  echo "check.sh: wrote $archive ($(du -m "$archive" | cut -f1) MiB; the device tool carries at most 64 MiB)"
  exit 0
fi

plan() {
  echo "1. gpuinfo devices; nvidia-smi (name, driver, memory); GPUINFO_CUBLAS = the libcublas.so PyTorch loads (from /proc/self/maps after a matmul)"
  echo "2. GpuInfo.Tests -class <every GpuInfo.Tests class matching $test_classes> -failSkips -xml cuda-tests.xml  (timeout 300 s)"
  for s in $shapes; do
    for d in $dtypes; do
      echo "3. gpuinfo bench --device $device --rows ${s%x*} --vocab ${s#*x} --dtype $d --json --save-data DATA  (every row measure and the fused evaluate and compare passes, verified against the CPU path first; read bandwidth in the same run)"
      echo "   python3 benchmarks/peer/torch_peer.py DATA --device $device --dtype $d            (eager, every op)"
    done
  done
  read -r ib_rows ib_vocab ib_clusters <<< "$ib_shape"
  echo "4. python3 benchmarks/peer/ib_torch_peer.py --device $device --rows $ib_rows --vocab $ib_vocab --clusters $ib_clusters --write IB.npy  (cuBLAS float32 rate, TF32 off; the PyTorch IB iteration)"
  echo "   gpuinfo ib --logits IB.npy --beta 10 --clusters $ib_clusters --max-iterations 6 --device $device --json  (seconds_per_iteration)"
  echo "5. a $corpus_mb MB .jsonl of this repository's sources: gpuinfo tokenize --tokenizer gpt2 --json, and again with --out F.safetensors (every core: DocumentEncoder's workers; nproc recorded)"
  for s in $shapes; do
    for d in $dtypes; do
      echo "6. python3 benchmarks/peer/torch_peer.py DATA --device $device --dtype $d --compile --ops $peer_compiled_ops  (the DATA of step 3)"
    done
  done
  echo "7. benchmarks/device/summarize.py -> summary.md, summary.json (GB/s, fraction of read bandwidth, speedup over eager and compile; IB GFLOP/s against cuBLAS)"
  echo "   Steps start only within --budget $budget s; a step that would start later is recorded as skipped."
}

if [ "$mode" = dry ]; then
  echo "check.sh --dry-run: the plan (nothing is run)"
  plan
  if [ -f "$archive" ]; then
    echo "publish: $archive ($(du -m "$archive" | cut -f1) MiB)"
  else
    echo "publish: $archive is missing; run 'benchmarks/device/check.sh --prepare' where the .NET SDK is"
  fi
  exit 0
fi

failed() { echo "check.sh: FAILED: $1" >&2; exit 1; }
failures=()
step_failed() { echo "check.sh: step failed: $1" >&2; failures+=("$1"); }
started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }
# True when a step may start; records it as skipped otherwise.
in_budget() {
  if [ "$(elapsed)" -ge "$budget" ]; then step_failed "$1: skipped, the $budget s budget was spent"; return 1; fi
}
# A step's timeout: its own, or what is left of the budget plus a minute, whichever is less.
limit() { local left=$(( budget + 60 - $(elapsed) )); [ "$left" -lt "$1" ] && echo $(( left > 10 ? left : 10 )) || echo "$1"; }

[ -f "$archive" ] || failed "$archive is missing: run --prepare where the .NET SDK is, and carry the file"
if [ "$mode" = run ]; then
  command -v nvidia-smi >/dev/null || failed "no nvidia-smi: this machine has no NVIDIA driver"
  python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null || failed "python3 has no PyTorch with CUDA"
else
  python3 -c "import torch" 2>/dev/null || failed "python3 has no PyTorch"
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$archive"
app="$work/app"
echo "mode=$mode device=$device budget=$budget" > "$out/check.txt"

echo "== 1. devices"
if [ "$mode" = run ]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.csv"
  # ILGPU.Algorithms looks for libcublas.so.12 only; PyTorch's cuBLAS is often a wheel's libcublas.so.13
  # off the loader's path. Hand gpuinfo the very library PyTorch uses (src/GpuInfo/Backends/Ilgpu/CudaLibraries.cs).
  cublas=$(timeout 120 python3 -c "import torch; a = torch.ones(8, 8, device='cuda'); (a @ a).sum().item(); print(next(l.split()[-1] for l in open('/proc/self/maps') if '/libcublas.so' in l))" 2>/dev/null || true)
  if [ -n "$cublas" ]; then
    export GPUINFO_CUBLAS="$cublas"
    export LD_LIBRARY_PATH="$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
echo "GPUINFO_CUBLAS=${GPUINFO_CUBLAS:-}" | tee "$out/cublas.txt"
timeout 60 "$app/GpuInfo.Cli" devices | tee "$out/devices.txt" || step_failed "gpuinfo devices"
timeout 60 "$app/GpuInfo.Cli" --version > "$out/version.txt" || true

echo "== 2. test classes"
classes=$(timeout 60 "$app/GpuInfo.Tests" -list classes -noLogo | grep -E "$test_classes" || true)
if [ -z "$classes" ]; then
  step_failed "no GpuInfo.Tests classes match $test_classes"
elif in_budget "tests"; then
  filters=()
  for c in $classes; do filters+=(-class "$c"); done
  if timeout "$(limit 300)" "$app/GpuInfo.Tests" "${filters[@]}" -failSkips -noColor -xml "$out/cuda-tests.xml" > "$out/cuda-tests.txt" 2>&1; then
    tail -3 "$out/cuda-tests.txt"
  else
    tail -40 "$out/cuda-tests.txt"
    step_failed "tests failed or were skipped (see cuda-tests.txt)"
  fi
fi
echo "tests done ($(elapsed) s)"

echo "== 3. bench and the PyTorch peer (eager)"
for s in $shapes; do
  for d in $dtypes; do
    data="$work/data-$s-$d"
    tag="${s}_$d"
    in_budget "gpuinfo bench $s $d" || continue
    if timeout "$(limit 120)" "$app/GpuInfo.Cli" bench --device "$device" --rows "${s%x*}" --vocab "${s#*x}" --dtype "$d" --json --save-data "$data" > "$out/bench_$tag.json" 2> "$out/bench_$tag.log"; then
      in_budget "torch peer $s $d" || continue
      timeout "$(limit 120)" python3 "$root/benchmarks/peer/torch_peer.py" "$data" --device "$device" --dtype "$d" > "$out/torch_$tag.json" \
        || { rm -f "$out/torch_$tag.json"; step_failed "torch peer $s $d"; }
    else
      tail -5 "$out/bench_$tag.log"
      rm -f "$out/bench_$tag.json"
      rm -rf "$data"
      step_failed "gpuinfo bench $s $d (see bench_$tag.log)"
    fi
    echo "$tag done ($(elapsed) s)"
  done
done

echo "== 4. IB over rows (issue 16)"
read -r ib_rows ib_vocab ib_clusters <<< "$ib_shape"
if in_budget "IB"; then
  if timeout "$(limit 120)" python3 "$root/benchmarks/peer/ib_torch_peer.py" --device "$device" --rows "$ib_rows" --vocab "$ib_vocab" --clusters "$ib_clusters" --write "$work/ib.npy" > "$out/ib_torch.json"; then
    ib() { timeout "$(limit 240)" "$@" "$app/GpuInfo.Cli" ib --logits "$work/ib.npy" --beta 10 --clusters "$ib_clusters" --max-iterations 6 --device "$device" --json > "$out/ib_gpuinfo.json" 2> "$out/ib_gpuinfo.log"; }
    if ! ib env; then
      tail -5 "$out/ib_gpuinfo.log"
      rm -f "$out/ib_gpuinfo.json"
      step_failed "gpuinfo ib --device $device (see ib_gpuinfo.log)"
      # A cuBLAS that would not load must not cost the measurement: once more on the tiled kernel.
      if [ -n "${GPUINFO_CUBLAS:-}" ] && in_budget "IB without GPUINFO_CUBLAS"; then
        mv "$out/ib_gpuinfo.log" "$out/ib_gpuinfo_cublas.log"
        ib env -u GPUINFO_CUBLAS || { rm -f "$out/ib_gpuinfo.json"; step_failed "gpuinfo ib without GPUINFO_CUBLAS (see ib_gpuinfo.log)"; }
      fi
    fi
  else
    rm -f "$out/ib_torch.json"
    step_failed "torch IB peer"
  fi
fi
rm -f "$work/ib.npy"
echo "IB done ($(elapsed) s)"

echo "== 5. a corpus tokenized on every core (CPU)"
nproc > "$out/nproc.txt"
if in_budget "tokenize"; then
  # Documents: this repository's C# and Markdown files, over and over, to corpus_mb MB of JSON Lines.
  python3 - "$root" "$work/corpus.jsonl" "$corpus_mb" <<'PY'
import json, pathlib, sys
root, path, mb = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
docs = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(root.glob("src/**/*.cs")) + sorted(root.glob("*.md"))]
written = 0
with open(path, "w", encoding="utf-8") as f:
    while written < mb * 1_000_000:
        for d in docs:
            line = json.dumps({"text": d}) + "\n"
            f.write(line)
            written += len(line)
PY
  for t in tokenize tokenize_out; do
    extra=(); [ "$t" = tokenize_out ] && extra=(--out "$work/corpus.safetensors")
    timeout "$(limit 120)" "$app/GpuInfo.Cli" tokenize --tokenizer gpt2 --text "$work/corpus.jsonl" "${extra[@]}" --json > "$out/$t.json" 2> "$out/$t.log" \
      || { rm -f "$out/$t.json"; step_failed "gpuinfo $t (see $t.log)"; }
  done
  ls -l "$work/corpus.jsonl" "$work/corpus.safetensors" >> "$out/tokenize.log" 2>&1 || true
  rm -f "$work/corpus.jsonl" "$work/corpus.safetensors"
fi
echo "tokenize done ($(elapsed) s)"

echo "== 6. torch.compile peer"
if ! python3 -c "import torch; torch.compile" 2>/dev/null; then
  step_failed "torch.compile peer: this PyTorch has no torch.compile"
else
  for s in $shapes; do
    for d in $dtypes; do
      data="$work/data-$s-$d"
      tag="${s}_$d"
      [ -d "$data" ] || continue
      in_budget "torch.compile peer $s $d" || continue
      timeout "$(limit 180)" python3 "$root/benchmarks/peer/torch_peer.py" "$data" --device "$device" --dtype "$d" --compile --ops "$peer_compiled_ops" > "$out/torch_compile_$tag.json" \
        || { rm -f "$out/torch_compile_$tag.json"; step_failed "torch.compile peer $s $d"; }
      echo "$tag compiled done ($(elapsed) s)"
    done
  done
fi

echo "== 7. summary"
python3 "$here/summarize.py" "$out" || step_failed "summarize"
if [ ${#failures[@]} -gt 0 ]; then
  echo "check.sh: FAILED after $(elapsed) s: $(IFS=';'; echo "${failures[*]}"); results so far in $out" >&2
  exit 1
fi
echo "check.sh: passed in $(elapsed) s; results in $out"
