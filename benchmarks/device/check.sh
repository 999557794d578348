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
#
# A failed step does not stop the later ones (device time is scarce: one run should measure all it
# can). Exit 0 when every step passed; 1 when any failed (all named on the last line); 2 for bad
# arguments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
archive="$here/publish.tar.xz"
mode=run
out="${OUT:-$here/out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry ;;
    --out) out="$2"; shift ;;
    *) echo "check.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

shapes="4096x128256 64x256000"
dtypes="f32 bf16"
peer_compiled_ops="cross-entropy,entropy,kl"
ib_shape="16384 50257 256"   # rows, vocab, clusters: issue 16's larger case

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
  echo "2. GpuInfo.Tests -class <every GpuInfo.Tests class named Cuda*> -failSkips -xml cuda-tests.xml  (timeout 300 s)"
  for s in $shapes; do
    for d in $dtypes; do
      echo "3. gpuinfo bench --device cuda --rows ${s%x*} --vocab ${s#*x} --dtype $d --json --save-data DATA  (every row measure, verified against the CPU path first; read bandwidth in the same run)"
      echo "   python3 benchmarks/peer/torch_peer.py DATA --device cuda --dtype $d            (eager, every op)"
      echo "   python3 benchmarks/peer/torch_peer.py DATA --device cuda --dtype $d --compile --ops $peer_compiled_ops"
    done
  done
  read -r ib_rows ib_vocab ib_clusters <<< "$ib_shape"
  echo "4. python3 benchmarks/peer/ib_torch_peer.py --rows $ib_rows --vocab $ib_vocab --clusters $ib_clusters --write IB.npy  (cuBLAS float32 rate, TF32 off; the PyTorch IB iteration)"
  echo "   gpuinfo ib --logits IB.npy --beta 10 --clusters $ib_clusters --max-iterations 6 --device cuda --json  (seconds_per_iteration)"
  echo "5. benchmarks/device/summarize.py -> summary.md, summary.json (GB/s, fraction of read bandwidth, speedup over eager and compile; IB GFLOP/s against cuBLAS)"
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
[ -f "$archive" ] || failed "$archive is missing: run --prepare where the .NET SDK is, and carry the file"
command -v nvidia-smi >/dev/null || failed "no nvidia-smi: this machine has no NVIDIA driver"
python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null || failed "python3 has no PyTorch with CUDA"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$archive"
app="$work/app"
started=$(date +%s)

echo "== 1. devices"
# ILGPU.Algorithms looks for libcublas.so.12 only; PyTorch's cuBLAS is often a wheel's libcublas.so.13
# off the loader's path. Hand gpuinfo the very library PyTorch uses (src/GpuInfo/Backends/Ilgpu/CudaLibraries.cs).
cublas=$(timeout 120 python3 -c "import torch; a = torch.ones(8, 8, device='cuda'); (a @ a).sum().item(); print(next(l.split()[-1] for l in open('/proc/self/maps') if '/libcublas.so' in l))" 2>/dev/null || true)
if [ -n "$cublas" ]; then
  export GPUINFO_CUBLAS="$cublas"
  export LD_LIBRARY_PATH="$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
echo "GPUINFO_CUBLAS=${GPUINFO_CUBLAS:-}" | tee "$out/cublas.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.csv"
timeout 60 "$app/GpuInfo.Cli" devices | tee "$out/devices.txt" || step_failed "gpuinfo devices"
timeout 60 "$app/GpuInfo.Cli" --version > "$out/version.txt" || true

echo "== 2. CUDA test classes"
classes=$(timeout 60 "$app/GpuInfo.Tests" -list classes -noLogo | grep -E '\.Cuda[A-Za-z0-9]*$' || true)
if [ -z "$classes" ]; then
  step_failed "no Cuda* test classes found in GpuInfo.Tests"
else
  filters=()
  for c in $classes; do filters+=(-class "$c"); done
  if timeout 300 "$app/GpuInfo.Tests" "${filters[@]}" -failSkips -noColor -xml "$out/cuda-tests.xml" > "$out/cuda-tests.txt" 2>&1; then
    tail -3 "$out/cuda-tests.txt"
  else
    tail -40 "$out/cuda-tests.txt"
    step_failed "CUDA tests failed or were skipped (see cuda-tests.txt)"
  fi
fi

echo "== 3. bench and PyTorch peer"
for s in $shapes; do
  for d in $dtypes; do
    data="$work/data-$s-$d"
    tag="${s}_$d"
    if timeout 120 "$app/GpuInfo.Cli" bench --device cuda --rows "${s%x*}" --vocab "${s#*x}" --dtype "$d" --json --save-data "$data" > "$out/bench_$tag.json" 2> "$out/bench_$tag.log"; then
      timeout 120 python3 "$root/benchmarks/peer/torch_peer.py" "$data" --device cuda --dtype "$d" > "$out/torch_$tag.json" \
        || step_failed "torch peer $s $d"
      timeout 180 python3 "$root/benchmarks/peer/torch_peer.py" "$data" --device cuda --dtype "$d" --compile --ops "$peer_compiled_ops" > "$out/torch_compile_$tag.json" \
        || step_failed "torch.compile peer $s $d"
    else
      tail -5 "$out/bench_$tag.log"
      rm -f "$out/bench_$tag.json"
      step_failed "gpuinfo bench $s $d (see bench_$tag.log)"
    fi
    rm -rf "$data"
    echo "$tag done ($(( $(date +%s) - started )) s)"
  done
done

echo "== 4. IB over rows (issue 16)"
read -r ib_rows ib_vocab ib_clusters <<< "$ib_shape"
if timeout 120 python3 "$root/benchmarks/peer/ib_torch_peer.py" --rows "$ib_rows" --vocab "$ib_vocab" --clusters "$ib_clusters" --write "$work/ib.npy" > "$out/ib_torch.json"; then
  timeout 240 "$app/GpuInfo.Cli" ib --logits "$work/ib.npy" --beta 10 --clusters "$ib_clusters" --max-iterations 6 --device cuda --json \
    > "$out/ib_gpuinfo.json" 2> "$out/ib_gpuinfo.log" || { tail -5 "$out/ib_gpuinfo.log"; rm -f "$out/ib_gpuinfo.json"; step_failed "gpuinfo ib --device cuda (see ib_gpuinfo.log)"; }
else
  rm -f "$out/ib_torch.json"
  step_failed "torch IB peer"
fi
rm -f "$work/ib.npy"
echo "IB done ($(( $(date +%s) - started )) s)"

echo "== 5. summary"
python3 "$here/summarize.py" "$out" || step_failed "summarize"
if [ ${#failures[@]} -gt 0 ]; then
  echo "check.sh: FAILED after $(( $(date +%s) - started )) s: $(IFS=';'; echo "${failures[*]}"); results so far in $out" >&2
  exit 1
fi
echo "check.sh: passed in $(( $(date +%s) - started )) s; results in $out"
