#!/usr/bin/env bash
# Runs a tiny synthetic grid through a real one-node Slurm on this machine (slurmctld + slurmd on
# localhost, munge authentication, no cgroups), as an array job of scripts/slurm-grid.sh, and
# through GNU parallel as README shows; merges each and compares with the serial run's tables.
# Installs Debian's slurm-wlm, munge and parallel when missing and starts the daemons when they
# are not running (needs root or sudo). Usage: scripts/test-slurm.sh [path/to/prn]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prn=$(realpath "${1:-.build/release/prn}")
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi

if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null || ! command -v parallel >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends slurm-wlm munge parallel >/dev/null
fi

# A daemon must not keep this script's descriptors: whoever waits for the script's output or exit
# (a pipe, Foundation's exit socket) would wait as long as the daemon lives.
detached() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec "$@"
  ) </dev/null >/dev/null 2>&1
}

host=$(hostname -s)
cpus=$(nproc)
if ! munge -n >/dev/null 2>&1; then   # no munged answering yet
  [ -s /etc/munge/munge.key ] || "${as_root[@]}" mungekey -c
  "${as_root[@]}" mkdir -p /run/munge /var/log/munge /var/lib/munge
  "${as_root[@]}" chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  "${as_root[@]}" chmod 0700 /etc/munge
  if [ ${#as_root[@]} -eq 0 ]; then detached runuser -u munge -- /usr/sbin/munged; else detached sudo -u munge /usr/sbin/munged; fi
fi
if ! scontrol ping 2>/dev/null | grep -q "is UP"; then   # no slurmctld answering yet
  "${as_root[@]}" mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  "${as_root[@]}" tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=prn
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  detached "${as_root[@]}" slurmctld
  detached "${as_root[@]}" slurmd
fi
for _ in $(seq 1 50); do
  sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 0.2
done
sinfo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/grid.prn" <<'PRN'
set timing off
d = data synthetic classes=3 shape=[8] train=300 test=60 seed=1
t = table
for a in [1, 2] {
  for b in range(3) {
    r = train (model mlp widths=[16] data=d) data=d epochs=2
    row t a=a b=b acc=r.test_acc loss=r.test_loss
  }
}
PRN
cd "$work"
"$prn" run grid.prn --jobs 1 --results serial.jsonl >/dev/null
"$prn" merge serial.jsonl > serial.txt

# Slurm: a 2-task array job of the generic script, waited for.
# Bounded: a job that never starts (a drained node, a stale state) fails here instead of hanging.
if ! PRN="$prn" timeout 300 sbatch --wait --array=0-1 --cpus-per-task=1 --output="$work/slurm-%a.out" \
  "$root/scripts/slurm-grid.sh" grid.prn slurm >/dev/null; then
  echo "the array job did not finish within 5 minutes, or failed:" >&2
  sinfo -N -l >&2 || true; squeue >&2 || true; cat "$work"/slurm-*.out >&2 2>/dev/null || true
  tail -20 /var/log/slurm/slurmctld.log >&2 2>/dev/null || true
  exit 1
fi
"$prn" merge slurm/shard-*.jsonl > slurm.txt
diff serial.txt slurm.txt
echo "slurm: the array job's merged tables equal the serial run's"

# GNU parallel, as README shows it.
timeout 300 parallel -j2 "$prn" run grid.prn --jobs 1 --shard {}/2 --results shard-{}.jsonl ::: 0 1 >/dev/null
"$prn" merge shard-*.jsonl > parallel.txt
diff serial.txt parallel.txt
echo "parallel: the merged tables equal the serial run's"
