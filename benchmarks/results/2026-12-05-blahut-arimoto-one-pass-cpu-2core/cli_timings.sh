#!/bin/bash
# Usage: cli_timings.sh BASE_CLI NEW_CLI (in the folder make_inputs.py wrote); rounds interleaved.
B=$1; C=$2
for round in 1 2 3; do
  for side in base new; do
    X=$B; [ $side = new ] && X=$C
    /usr/bin/time -f "$side capacity w300 (to 1e-12 nats) %e s" $X capacity --channel w300.npy --json > /dev/null
    /usr/bin/time -f "$side capacity w40 %e s" $X capacity --channel w40.npy --json > /dev/null
    /usr/bin/time -f "$side capacity w2048 50 iterations %e s %M KB" $X capacity --channel w2048.npy --max-iterations 50 --json > /dev/null
    /usr/bin/time -f "$side rd 300x149 beta 1 %e s" $X rd --source p149.npy --distortion d149.npy --beta 1 --json > /dev/null
    /usr/bin/time -f "$side rd 300x149 beta 0.3 200 iterations %e s" $X rd --source p149.npy --distortion d149.npy --beta 0.3 --max-iterations 200 --json > /dev/null
  done
done
