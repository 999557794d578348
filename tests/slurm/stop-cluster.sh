#!/usr/bin/env bash
# Stops the cluster start-cluster.sh DIR started (its slurmd, slurmctld and munged only).
dir=${1:?usage: stop-cluster.sh DIR}
for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
  [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
done
exit 0
