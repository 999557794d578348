#!/usr/bin/env bash
# Installs NVIDIA's PTX assembler (ptxas) without a GPU or a CUDA install, for PtxasTests
# (tests/GpuInfo.Tests/Kernels/PtxasTests.cs): it assembles every kernel's PTX for sm_80 and sm_90 and
# checks registers, spills and stack, the failures a first launch on a GPU would otherwise find.
#
# ptxas comes from Debian's nvidia-cuda-toolkit package (non-free), fetched through this machine's
# own apt mirror into a private apt state (the system's sources and lists are left alone) and
# unpacked without installing it; only ptxas is kept, in ${GPUINFO_PTXAS_DIR:-~/.cache/gpuinfo/ptxas}.
# Best effort: exit 0 with a message when it cannot (no apt, not Debian, no mirror); the tests then
# skip with the reason. Exit 1 only when the download or unpacking itself fails.
set -euo pipefail
dir="${GPUINFO_PTXAS_DIR:-${HOME:-/root}/.cache/gpuinfo/ptxas}"
say() { echo "install-ptxas: $*"; }

if [ -x "$dir/ptxas" ]; then say "already installed: $dir/ptxas"; exit 0; fi
if command -v ptxas >/dev/null 2>&1; then say "ptxas is on PATH: $(command -v ptxas)"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then say "no apt-get/dpkg: not installed"; exit 0; fi
if [ "$(dpkg --print-architecture)" != amd64 ]; then say "not amd64: not installed"; exit 0; fi
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
# The mirror this machine's apt already uses for its main Debian suite.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -v -- '-security' | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
if [ -z "$codename" ] || [ -z "$mirror" ]; then say "no Debian codename or apt mirror found: not installed"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc"
echo "deb $mirror $codename non-free" > "$work/etc/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o "Dir::Etc::SourceParts=$work/etc/none"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives" -o "APT::Sandbox::User=root")
if ! timeout 300 apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1; then
  say "apt-get update of $codename non-free failed: not installed"; exit 0
fi
(cd "$work" && timeout 600 apt-get "${apt_opts[@]}" download -qq nvidia-cuda-toolkit >/dev/null 2>&1) \
  || { say "nvidia-cuda-toolkit could not be downloaded for $codename: not installed"; exit 0; }
dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$work/x"
mkdir -p "$dir"
cp "$work/x/usr/bin/ptxas" "$dir/ptxas.tmp" && mv "$dir/ptxas.tmp" "$dir/ptxas"
say "installed $("$dir/ptxas" --version | tail -2 | head -1) as $dir/ptxas"
