#!/usr/bin/env bash
# Shared helpers for the local test services started by hack/kube/{up,down}.sh and
# hack/moto/{up,down}.sh: free loopback ports, pid checks, bounded waits, owner watchdogs and
# clean stops. Source it; it owns no process and no state of its own.
#
# Run directly (`hack/kube/env.sh [STATE_DIR]`) it prints the env file of a running control plane,
# so `eval "$(hack/kube/env.sh)"` points kubectl and kube-rs at it.
set -euo pipefail

# Seconds since the epoch with sub-second precision, for "ready in" reports.
po_now() { date +%s.%N; }
po_elapsed() { awk -v a="$1" -v b="$(po_now)" 'BEGIN { printf "%.1f", b - a }'; }

# A TCP port on 127.0.0.1 that nothing listens on. Chosen below the kernel's ephemeral range
# (32768+) so outgoing connections cannot grab it between the pick and the bind; the callers
# retry the start when a bind still loses a race. Excludes the ports named in the arguments
# (pass `none` when there are none).
po_free_port() {
  local port tries=0
  while [ "$tries" -lt 200 ]; do
    tries=$((tries + 1))
    port=$((20000 + RANDOM % 12000))
    case " $* " in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
      ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  echo "po_free_port: no free port on 127.0.0.1 after $tries tries" >&2
  return 1
}

# True when PID is running. Unlike `kill -0` this is false for a zombie: an exited process
# whose parent has not reaped it yet (our own children until `wait`, orphans until init reaps).
po_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat:0:1}" != Z ]
}

# True when PID is alive and its command line mentions MARKER (guards against a recycled pid).
po_pid_matches() {
  local pid=$1 marker=$2
  [ -n "$pid" ] && po_alive "$pid" &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# Reads a pid file; prints nothing when it is missing.
po_read_pid() { if [ -f "$1" ]; then tr -dc '0-9' <"$1"; fi; }

# Sends SIG to PID, and to its whole process group when PID leads one (we start services with
# setsid, so anything they spawned goes too).
po_signal() {
  local sig=$1 pid=$2 pgid
  pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
  if [ "$pgid" = "$pid" ]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

# SIGTERM, wait up to TIMEOUT seconds, then SIGKILL. Returns once PID is gone.
po_stop_pid() {
  local pid=$1 what=$2 timeout=${3:-15} i
  po_alive "$pid" || return 0
  po_signal TERM "$pid"
  for ((i = 0; i < timeout * 10; i++)); do
    po_alive "$pid" || return 0
    sleep 0.1
  done
  echo "$what (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL" >&2
  po_signal KILL "$pid"
  for ((i = 0; i < 50; i++)); do
    po_alive "$pid" || return 0
    sleep 0.1
  done
  echo "$what (pid $pid) is still alive after SIGKILL" >&2
  return 1
}

# Starts, detached from the caller's session and file descriptors, a watchdog that runs
# `DOWN_SCRIPT STATE_DIR` once OWNER_PID exits. Writes its pid to STATE_DIR/watchdog.pid.
po_start_watchdog() {
  local owner=$1 down=$2 state=$3
  po_alive "$owner" || { echo "owner pid $owner is not running" >&2; return 1; }
  # shellcheck disable=SC2016 # expanded by the watchdog's own shell
  setsid bash -c 'source "$3"; while po_alive "$0"; do sleep 1; done; exec "$1" "$2"' \
    "$owner" "$down" "$state" "${BASH_SOURCE[0]}" </dev/null >>"$state/watchdog.log" 2>&1 9>&- &
  echo $! >"$state/watchdog.pid"
}

# Stops the watchdog of STATE_DIR unless it is the caller itself (it execs the down script).
po_stop_watchdog() {
  local state=$1 pid
  pid=$(po_read_pid "$state/watchdog.pid")
  if [ -n "$pid" ] && [ "$pid" != "$$" ] && po_pid_matches "$pid" "$state"; then
    po_signal TERM "$pid"
  fi
  rm -f "$state/watchdog.pid"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  state=${1:-${PO_KUBE_STATE:-$PWD/.cache/kube}}
  [ -f "$state/env" ] || { echo "env.sh: no control plane state in $state (run hack/kube/up.sh)" >&2; exit 1; }
  cat "$state/env"
fi
