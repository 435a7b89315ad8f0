#!/usr/bin/env bash
# Stops the moto server that hack/moto/up.sh started in STATE_DIR (SIGTERM, wait, then SIGKILL),
# stops its owner watchdog, and removes STATE_DIR unless asked to keep it. Safe to run twice.
#
# Usage: hack/moto/down.sh [--keep] [STATE_DIR]
#   STATE_DIR  default ${PO_MOTO_STATE:-$PWD/.cache/moto}
#   --keep     keep STATE_DIR (log) for inspection; also PO_MOTO_KEEP=1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kube/env.sh
source "$here/../kube/env.sh"

keep=${PO_MOTO_KEEP:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) echo "moto/down.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
state=${1:-${PO_MOTO_STATE:-$PWD/.cache/moto}}
[ -d "$state" ] || { echo "moto/down.sh: $state does not exist; nothing to stop" >&2; exit 0; }
state=$(cd "$state" && pwd)

exec 9>>"$state/.lock"
flock -w 60 9 || { echo "moto/down.sh: timed out waiting for the lock on $state" >&2; exit 1; }

po_stop_watchdog "$state"
pid=$(po_read_pid "$state/moto.pid")
port=$(cat "$state/port" 2>/dev/null || true)
if [ -n "$pid" ] && [ -n "$port" ] && po_pid_matches "$pid" "moto_server -H 127.0.0.1 -p $port"; then
  po_stop_pid "$pid" moto_server 10
  echo "moto/down.sh: stopped moto_server (pid $pid) of $state" >&2
fi
rm -f "$state/moto.pid"

if [ "$keep" = 1 ]; then
  echo "moto/down.sh: kept $state" >&2
elif [ -f "$state/.po-moto-state" ]; then
  rm -rf "$state"
else
  echo "moto/down.sh: $state has no .po-moto-state marker; not deleting it" >&2
fi
