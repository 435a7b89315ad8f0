#!/usr/bin/env bash
# Stops the local control plane that hack/kube/up.sh started in STATE_DIR (SIGTERM, wait, then
# SIGKILL), stops its owner watchdog, and removes STATE_DIR unless asked to keep it. Owns nothing
# beyond what up.sh recorded in STATE_DIR; safe to run twice or on a dir that was never started.
#
# Usage: hack/kube/down.sh [--keep] [STATE_DIR]
#   STATE_DIR  default ${PO_KUBE_STATE:-$PWD/.cache/kube}
#   --keep     keep STATE_DIR (logs, PKI, etcd data) for inspection; also PO_KUBE_KEEP=1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kube/env.sh
source "$here/env.sh"

keep=${PO_KUBE_KEEP:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "down.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
state=${1:-${PO_KUBE_STATE:-$PWD/.cache/kube}}
[ -d "$state" ] || { echo "down.sh: $state does not exist; nothing to stop" >&2; exit 0; }
state=$(cd "$state" && pwd)

exec 9>>"$state/.lock"
flock -w 120 9 || { echo "down.sh: timed out waiting for the lock on $state" >&2; exit 1; }

po_stop_watchdog "$state"
pid=$(po_read_pid "$state/apiserver.pid")
if [ -n "$pid" ] && po_pid_matches "$pid" "$state"; then
  po_stop_pid "$pid" kube-apiserver 15
  echo "down.sh: stopped kube-apiserver (pid $pid) of $state" >&2
fi
rm -f "$state/apiserver.pid"

if [ "$keep" = 1 ]; then
  echo "down.sh: kept $state" >&2
elif [ -f "$state/.po-kube-state" ]; then
  rm -rf "$state"
else
  echo "down.sh: $state has no .po-kube-state marker; not deleting it" >&2
fi
