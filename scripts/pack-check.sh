#!/usr/bin/env bash
# Packs the solution and proves the packages as a user gets them (issue 19); .ci/run runs it after
# the tests. In a temporary folder, under a throwaway version 0.0.0-ci.<UTC time>:
#   1. dotnet pack GpuInfo.sln into a folder feed (own build folders: the checkout's bin/ and obj/
#      are left alone), and print every package's size;
#   2. dotnet tool install --tool-path from that feed: `gpuinfo --version` must print the version and
#      the commit, `gpuinfo demo --json` must succeed; print the installed size;
#   3. build a console project (scripts/pack-check/) with a PackageReference to GpuInfo from the feed
#      and run it: a library figure against float64, the demo's JSON, the packages' contents.
# Restores read only the feed and the machine's NuGet package folder (as a fallback folder): no
# network, and the throwaway packages go to a temporary package folder, not the machine's.
# Fails, with one line last, on any failed step or when the linux-x64 tool package exceeds
# GPUINFO_MAX_TOOL_PACKAGE_MIB (40) or the installed tool GPUINFO_MAX_INSTALLED_MIB (108: issue 19 aimed at 100 with
# ONNX Runtime included and measured 100.7 MiB, 47 of them the two copies of the package the SDK keeps in the tool
# store; the tokenizers, the .gz/.zst readers and the Parquet reader, Parquet.Net with its codecs, 1.8 MiB, took it to 106.6).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
max_package_mib=${GPUINFO_MAX_TOOL_PACKAGE_MIB:-40}
max_installed_mib=${GPUINFO_MAX_INSTALLED_MIB:-108}
version="0.0.0-ci.$(date -u +%Y%m%d%H%M%S)"
work=$(mktemp -d "${TMPDIR:-/tmp}/gpuinfo-pack-check.XXXXXX")
feed=$work/feed
started=$SECONDS

fail() {
  echo "pack-check: FAILED: $1 (logs in $work)" >&2
  exit 1
}

# step NAME COMMAND...: runs COMMAND with its output in $work/NAME.log; on failure shows the end of
# the log and fails with its first error line (MSBuild's), else its last line.
step() {
  local name=$1
  shift
  if ! "$@" >"$work/$name.log" 2>&1; then
    tail -n 30 "$work/$name.log" >&2
    fail "$name: $(first_error "$work/$name.log")"
  fi
}

first_error() {
  grep -m 1 -E ': error [A-Z]+[0-9]+' "$1" || grep -v '^[[:space:]]*$' "$1" | tail -n 1
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
size() { awk -v b="$1" 'BEGIN { if (b < 1048576) printf "%.0f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }'; }

echo "pack-check: version $version in $work"

# 1. Pack.
step pack dotnet pack GpuInfo.sln -c Release -o "$feed" --artifacts-path "$work/artifacts" -p:Version="$version"
echo "  packed in $((SECONDS - started)) s"
for f in "$feed"/*.nupkg "$feed"/*.snupkg; do
  printf '  %-56s %9s\n' "$(basename "$f")" "$(size "$(stat -c %s "$f")")"
done
linux_package=$feed/GpuInfo.Cli.linux-x64.$version.nupkg
[ -f "$linux_package" ] || fail "pack: no $(basename "$linux_package")"
linux_bytes=$(stat -c %s "$linux_package")
((linux_bytes <= max_package_mib * 1048576)) \
  || fail "the linux-x64 tool package is $(mib "$linux_bytes") MiB, over $max_package_mib MiB"

# Restores see the feed and, as a read-only fallback, the packages the machine already has.
machine_packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')
[ -d "$machine_packages" ] || fail "no NuGet package folder found (dotnet nuget locals global-packages --list)"
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="pack-check" value="$feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="machine" value="$machine_packages" />
  </fallbackPackageFolders>
</configuration>
EOF
export NUGET_PACKAGES=$work/packages

# 2. Install the tool and run it.
step install dotnet tool install GpuInfo.Cli --tool-path "$work/tool" --version "$version" --configfile "$work/nuget.config"
installed_bytes=$(($(du -sk "$work/tool" | cut -f1) * 1024))
rid_package=$(basename "$(find "$work/tool/.store" -mindepth 3 -maxdepth 3 -type d -name 'gpuinfo.cli.*')")
echo "  installed $rid_package: $(mib "$installed_bytes") MiB on disk"
((installed_bytes <= max_installed_mib * 1048576)) \
  || fail "the installed tool takes $(mib "$installed_bytes") MiB, over $max_installed_mib MiB"

step version "$work/tool/gpuinfo" --version
printed=$(cat "$work/version.log")
expected=$version
if commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null); then expected="$version+$commit"; fi
[ "$printed" = "$expected" ] || fail "gpuinfo --version printed '$printed', expected '$expected'"
echo "  gpuinfo --version: $printed"

if ! "$work/tool/gpuinfo" demo --json >"$work/demo.json" 2>"$work/demo.log"; then
  tail -n 30 "$work/demo.log" >&2
  fail "gpuinfo demo --json from the installed tool failed: $(first_error "$work/demo.log")"
fi

# 3. A user's project against the GpuInfo package.
mkdir "$work/consumer"
cp scripts/pack-check/*.cs scripts/pack-check/PackCheck.csproj "$work/nuget.config" "$work/consumer/"
step consumer-build dotnet build "$work/consumer" -c Release -p:GpuInfoVersion="$version"
consumer=$work/consumer/bin/Release/net10.0/PackCheck.dll
for check in "library" "demo $work/demo.json" "packages $feed $version"; do
  # shellcheck disable=SC2086 # the check's words are its arguments
  step "check-${check%% *}" dotnet "$consumer" $check
  sed 's/^/  /' "$work/check-${check%% *}.log"
done

rm -rf "$work"
echo "pack-check: passed in $((SECONDS - started)) s"
