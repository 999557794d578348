#!/bin/bash
# One worker encoding, the consumer (a TokenizedTextBuilder, as perplexity --text) on the other core: before and after.
# BEFORE and AFTER: the two builds' src/GpuInfo.Cli/bin/Release/net10.0 folders (a build of 730316f, and of the commit that pipelines).
set -eu
cd "$(dirname "$0")"
dotnet build -c Release -p:ModelsDir=$AFTER -o out > /dev/null
for b in before after; do
  src=$([ $b = before ] && echo $BEFORE || echo $AFTER)
  rm -rf /tmp/pipebench-$b; cp -r $src /tmp/pipebench-$b; cp out/pipebench.dll out/pipebench.runtimeconfig.json /tmp/pipebench-$b/
done
for r in 1 2 3; do for b in before after; do echo -n "$b "; dotnet /tmp/pipebench-$b/pipebench.dll ${CORPUS:-/tmp/c1.jsonl} 1; done; done
