#!/bin/sh
# A real single-node Slurm cluster on this machine, from Debian's slurm-wlm
# and munge: one munged, one slurmctld and one slurmd on localhost, with
# their own ports, socket, key and state under STATE (default
# /tmp/allocbench-slurm), so they touch no system-wide Slurm or munge.
#
#   sh scripts/slurm/local_cluster.sh start   # prints: export SLURM_CONF=...
#   sh scripts/slurm/local_cluster.sh status
#   sh scripts/slurm/local_cluster.sh stop
#
# Needs root (slurmd starts jobs as their user). Exit status: 0, 2 on bad
# usage or a missing package, 1 when a daemon does not come up (its log is
# printed).
set -eu

STATE=${ALLOCBENCH_SLURM_STATE:-/tmp/allocbench-slurm}
CTLD_PORT=${ALLOCBENCH_SLURM_PORT:-16817}
SLURMD_PORT=$((CTLD_PORT + 1))
CONF=$STATE/slurm.conf

die() { echo "local_cluster: $1" >&2; exit "${2:-1}"; }

need() {
  for b in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$b" >/dev/null 2>&1 ||
      die "$b not found; install Debian's slurm-wlm and munge (sh scripts/setup.sh --slurm)" 2
  done
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd runs the jobs)" 2
}

write_conf() {
  node=$(hostname -s)
  cpus=$(nproc)
  mkdir -p "$STATE/spool" "$STATE/state" "$STATE/log"
  cat > "$CONF" <<CONF
# Written by scripts/slurm/local_cluster.sh: one node, localhost only.
ClusterName=allocbench
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge.socket
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MaxArraySize=1001
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=EXCLUSIVE
CONF
}

start_munge() {
  [ -f "$STATE/munge.key" ] || mungekey --create --keyfile="$STATE/munge.key" >/dev/null 2>&1 ||
    { dd if=/dev/urandom of="$STATE/munge.key" bs=1024 count=1 2>/dev/null; }
  chmod 600 "$STATE/munge.key"
  munged --force --socket="$STATE/munge.socket" --key-file="$STATE/munge.key" \
    --pid-file="$STATE/munged.pid" --log-file="$STATE/log/munged.log" \
    --seed-file="$STATE/munge.seed" || die "munged did not start: $(tail -5 "$STATE/log/munged.log")"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  need
  if running "$STATE/slurmctld.pid"; then
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  write_conf
  running "$STATE/munged.pid" || start_munge
  PATH=$PATH:/usr/sbin
  slurmctld -f "$CONF" -i || die "slurmctld did not start: $(tail -5 "$STATE/log/slurmctld.log")"
  slurmd -f "$CONF" || die "slurmd did not start: $(tail -5 "$STATE/log/slurmd.log")"
  # Up when the node is idle.
  i=0
  until SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null | grep -q idle; do
    i=$((i + 1))
    [ $i -lt 60 ] || die "the node did not become idle in 30 s: $(SLURM_CONF=$CONF sinfo 2>&1)
$(tail -5 "$STATE/log/slurmd.log")"
    sleep 0.5
  done
  echo "export SLURM_CONF=$CONF"
}

stop() {
  for d in slurmd slurmctld munged; do
    if running "$STATE/$d.pid"; then
      pid=$(cat "$STATE/$d.pid")
      kill "$pid"
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    fi
  done
  rm -f "$STATE"/*.pid
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    for d in munged slurmctld slurmd; do
      if running "$STATE/$d.pid"; then echo "$d: running"; else echo "$d: stopped"; fi
    done
    [ -f "$CONF" ] && SLURM_CONF=$CONF sinfo 2>/dev/null || true ;;
  *) die "usage: local_cluster.sh start|stop|status" 2 ;;
esac
