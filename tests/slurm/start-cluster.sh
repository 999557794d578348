#!/usr/bin/env bash
# Starts a throwaway single-node Slurm cluster (slurmctld + slurmd on this host, munge auth, no
# cgroups) under DIR, for the Slurm array test. Prints the slurm.conf path on success; exits 3 with
# a one-line reason when Slurm or munge is missing or will not start. Stop it with stop-cluster.sh DIR.
set -u
dir=${1:?usage: start-cluster.sh DIR}
for tool in slurmctld slurmd sbatch squeue munged; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool not installed (apt-get install slurm-wlm munge)"; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "needs root to run slurmd and munged"; exit 3; }
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
port=$(( 20000 + RANDOM % 20000 ))

# munge: our own daemon and socket, so an existing one is left alone.
key=/etc/munge/munge.key
if [ ! -r "$key" ]; then
  key="$dir/munge/munge.key"
  dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null && chmod 400 "$key"
fi
socket="$dir/munge/munge.socket"
munged --force --key-file="$key" --socket="$socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" >/dev/null 2>&1 \
  || { echo "munged did not start: $(tail -n 1 "$dir/log/munged.log" 2>/dev/null)"; exit 3; }

cat > "$dir/slurm.conf" <<CONF
ClusterName=gpuinfo-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" >/dev/null 2>&1 || { echo "slurmctld did not start: $(tail -n 1 "$dir/log/slurmctld.log" 2>/dev/null)"; exit 3; }
slurmd -f "$SLURM_CONF" >/dev/null 2>&1 || { echo "slurmd did not start: $(tail -n 1 "$dir/log/slurmd.log" 2>/dev/null)"; exit 3; }
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
    echo "$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "the Slurm node did not come up within 30 s: $(sinfo -h -o '%T %E' 2>&1 | head -n 1); $(tail -n 1 "$dir/log/slurmd.log" 2>/dev/null)"
exit 3
