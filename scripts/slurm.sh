#!/usr/bin/env bash
# A real single-node Slurm (22.05, Debian's slurm-wlm) for the `--backend slurm` tests and for trying it by hand:
#   scripts/slurm.sh up       installs slurm-wlm and munge when missing (root), writes slurm.conf and gres.conf
#                             into $CAPSIZE_SLURM_DIR (default /tmp/capsize-slurm), starts munged, slurmctld and
#                             slurmd (no slurmdbd: sacct stays off) and waits until the node is idle
#   scripts/slurm.sh down     stops them by pid file (SIGTERM, then SIGKILL)
#   scripts/slurm.sh status   says what runs; exit 0 when the node answers
#   scripts/slurm.sh env      prints `export SLURM_CONF=...` for the clients (sbatch, scontrol, capsize)
# Idempotent: `up` on a running cluster only checks it. The comments below say why each line is there.
set -euo pipefail
dir="${CAPSIZE_SLURM_DIR:-/tmp/capsize-slurm}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"
partition=capsize

say() { echo "slurm: $*"; }
fail() { echo "slurm: $*" >&2; exit 1; }

# Whether the process in pid file $1 is alive (a zombie counts as gone: PID 1 here reaps late).
alive() {
  [[ -s $1 ]] || return 1
  local pid state
  pid=$(<"$1")
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [[ $state != Z ]]
}

# Stops the process in pid file $1: SIGTERM, up to 5 s, then SIGKILL.
stop() {
  local file=$1 name=$2 pid
  alive "$file" || { rm -f "$file"; return 0; }
  pid=$(<"$file")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$file" || break; sleep 0.1; done
  if alive "$file"; then
    say "$name ($pid) ignored SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 20); do alive "$file" || break; sleep 0.1; done
  fi
  rm -f "$file"
  say "stopped $name"
}

install_packages() {
  local missing=() package
  for package in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  local command="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "slurm: missing ${missing[*]}; run as root:" >&2
    echo "  sudo apt-get update && sudo $command && sudo scripts/slurm.sh up" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's policy-rc.d keeps the packages from starting any service; this script starts them.
  $command >/dev/null 2>&1 || { apt-get update -qq && $command >/dev/null; } || fail "failed: $command"
}

write_config() {
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  local host node
  host=$(hostname -s)
  # The hardware line as slurmd sees it (CPUs, sockets, cores, threads, RealMemory), for this host.
  node=$(slurmd -C | head -1)
  [[ $node == NodeName=* ]] || fail "slurmd -C printed no NodeName line: $node"
  for n in 0 1; do
    [[ -c /run/fakegpu$n ]] || mknod -m 666 "/run/fakegpu$n" c 1 3
  done
  cat >"$conf.new" <<EOF
# Written by capsize scripts/slurm.sh: a single-node cluster for tests (slurm.conf(5), slurm.schedmd.com/slurm.conf.html).
ClusterName=capsize
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${CAPSIZE_SLURMCTLD_PORT:-6817}
SlurmdPort=${CAPSIZE_SLURMD_PORT:-6818}
MpiDefault=none
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1,sched_min_interval=0
MaxArraySize=10001
MaxJobCount=20000
MinJobAge=3600
KillWait=5
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=OverMemoryKill
JobAcctGatherFrequency=task=1
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
GresTypes=gpu
$node Gres=gpu:2 State=UNKNOWN
PartitionName=$partition Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  local name=${node#NodeName=}
  name=${name%% *}
  cat >"$dir/gres.conf.new" <<EOF
AutoDetect=off
NodeName=$name Name=gpu File=/run/fakegpu[0-1]
EOF
  mv "$dir/gres.conf.new" "$dir/gres.conf"
  mv "$conf.new" "$conf"
}

start_munge() {
  if [[ -S /run/munge/munge.socket.2 ]] && munge -n </dev/null >/dev/null 2>&1; then return 0; fi
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  [[ -s /etc/munge/munge.key ]] || runuser -u munge -- /usr/sbin/mungekey --create >/dev/null
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "munged did not answer (see /var/log/munge/munged.log)"
}

# Waits up to $1 tenths of a second until the node is idle (or mixed/allocated: up and running jobs).
wait_idle() {
  local state=""
  for _ in $(seq "$1"); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
    [[ $state == idle || $state == mixed || $state == allocated ]] && return 0
    sleep 0.1
  done
  echo "slurm: the node is '${state:-not answering}' (logs in $dir/log/)" >&2
  return 1
}

up() {
  if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && wait_idle 20 2>/dev/null; then
    say "already up ($conf)"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || fail "starting the daemons needs root: sudo scripts/slurm.sh up"
  install_packages
  local start=$SECONDS
  stop "$dir/slurmd.pid" slurmd
  stop "$dir/slurmctld.pid" slurmctld
  write_config
  start_munge
  # -c: a clean start (no saved jobs from an earlier cluster in $dir/state).
  slurmctld -c -f "$conf" || fail "slurmctld did not start (see $dir/log/slurmctld.log)"
  slurmd -f "$conf" || fail "slurmd did not start (see $dir/log/slurmd.log)"
  wait_idle 300 || exit 1
  # A node left DOWN by an earlier run is brought back (ReturnToService=2 does it on registration too).
  say "up in $((SECONDS - start)) s: partition $partition, $(sinfo -h -N -o '%c CPUs, %m MB, %G'); $(env_line)"
}

down() {
  stop "$dir/slurmd.pid" slurmd
  stop "$dir/slurmctld.pid" slurmctld
  # munged is shared with any other Slurm on the machine: stopped only when this script's cluster was the user.
  if [[ ${CAPSIZE_SLURM_KEEP_MUNGE:-0} != 1 ]]; then stop /run/munge/munged.pid munged; fi
}

status() {
  local code=0 name
  for name in slurmctld slurmd; do
    if alive "$dir/$name.pid"; then say "$name running ($(<"$dir/$name.pid"))"; else say "$name stopped"; code=1; fi
  done
  if alive /run/munge/munged.pid; then say "munged running"; else say "munged stopped"; code=1; fi
  if ((code == 0)); then sinfo -N -o '%N %P %T %c %m %G'; fi
  return $code
}

env_line() { echo "export SLURM_CONF=$conf"; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) env_line ;;
  *) echo "usage: scripts/slurm.sh up|down|status|env   (CAPSIZE_SLURM_DIR=$dir)" >&2; exit 2 ;;
esac
