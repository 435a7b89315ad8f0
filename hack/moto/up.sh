#!/usr/bin/env bash
# Starts (or reuses) a local moto server (fake Kinesis and S3) on 127.0.0.1, from the project's
# cached Python venv (hack/python/venv.sh). It owns STATE_DIR and the moto_server process recorded
# there; hack/moto/down.sh undoes it.
#
# Usage: hack/moto/up.sh [--owner-pid PID] [STATE_DIR]
#   STATE_DIR     default ${PO_MOTO_STATE:-$PWD/.cache/moto}
#   --owner-pid   also start a watchdog that runs down.sh once PID exits (used by the testkit).
# Env: PO_MOTO_VENV (skip venv.sh; a venv with moto[server]), PO_MOTO_READY_TIMEOUT (default 30 s).
#
# Idempotent: a running, answering server of STATE_DIR is reused. Prints STATE_DIR on stdout.
# Writes STATE_DIR/endpoint (http://127.0.0.1:PORT), STATE_DIR/venv (a link to the venv) and
# STATE_DIR/env (`source` it: the AWS_ENDPOINT_URL_KINESIS / _S3 endpoints, static test
# credentials, region us-east-1, and PATH with the venv first, so `aws` is the venv's awscli).
# S3 clients must use path-style addressing (virtual-host style cannot resolve on 127.0.0.1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kube/env.sh
source "$here/../kube/env.sh"

owner=""
while [ $# -gt 0 ]; do
  case $1 in
    --owner-pid) owner=${2:?--owner-pid needs a pid}; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "up.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
state=${1:-${PO_MOTO_STATE:-$PWD/.cache/moto}}
mkdir -p "$state"
state=$(cd "$state" && pwd)
timeout=${PO_MOTO_READY_TIMEOUT:-30}
log() { echo "moto/up.sh: $*" >&2; }

exec 9>"$state/.lock"
flock -w 900 9 || { log "timed out waiting for the lock on $state"; exit 1; }

ready() { curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$1/moto-api/" 2>/dev/null; }
marker() { echo "moto_server -H 127.0.0.1 -p $1"; }

pid=$(po_read_pid "$state/moto.pid")
port=$(cat "$state/port" 2>/dev/null || true)
if [ -n "$pid" ] && [ -n "$port" ] && po_pid_matches "$pid" "$(marker "$port")"; then
  if [ -f "$state/env" ] && ready "$port"; then
    log "reusing moto at http://127.0.0.1:$port (pid $pid)"
    if [ -n "$owner" ] && ! po_pid_matches "$(po_read_pid "$state/watchdog.pid")" "$state"; then
      po_start_watchdog "$owner" "$here/down.sh" "$state"
    fi
    echo "$state"
    exit 0
  fi
  log "moto pid $pid is alive but not answering; restarting it"
  po_stop_pid "$pid" moto_server
fi
po_stop_watchdog "$state"

venv=${PO_MOTO_VENV:-$("$here/../python/venv.sh" 9>&-)}
venv=$(cd "$venv" && pwd)
[ -x "$venv/bin/moto_server" ] || { log "no moto_server in $venv/bin"; exit 1; }

find "$state" -mindepth 1 -maxdepth 1 ! -name .lock ! -name .po-moto-state -exec rm -rf {} +
touch "$state/.po-moto-state" # marker: down.sh only deletes directories carrying it
ln -s "$venv" "$state/venv"   # STATE_DIR/venv/bin/aws is the matching awscli

started=""
cleanup_on_error() { [ -z "$started" ] || po_stop_pid "$started" moto_server 5 || true; }
trap cleanup_on_error EXIT
t0=$(po_now)
for attempt in 1 2 3; do
  port=$(po_free_port none)
  setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$state/moto.log" 2>&1 9>&- &
  started=$!
  echo "$started" >"$state/moto.pid"
  echo "$port" >"$state/port"
  [ -z "$owner" ] || po_start_watchdog "$owner" "$here/down.sh" "$state"
  deadline=$(($(date +%s) + timeout))
  while ! ready "$port"; do
    po_alive "$started" || break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "moto not answering after ${timeout}s; last lines of $state/moto.log:"
      tail -n 40 "$state/moto.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  po_alive "$started" && break
  wait "$started" 2>/dev/null || true
  started=""
  if grep -qiE 'address already in use' "$state/moto.log" && [ "$attempt" -lt 3 ]; then
    log "port $port was taken meanwhile; retrying"
    continue
  fi
  log "moto_server exited during startup; last lines of $state/moto.log:"
  tail -n 40 "$state/moto.log" >&2
  exit 1
done

endpoint="http://127.0.0.1:$port"
echo "$endpoint" >"$state/endpoint"
cat >"$state/env" <<ENV
export PO_MOTO_STATE='$state'
export PO_MOTO_ENDPOINT='$endpoint'
export AWS_ENDPOINT_URL_KINESIS='$endpoint'
export AWS_ENDPOINT_URL_S3='$endpoint'
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export PATH='$venv/bin':"\$PATH"
ENV
started=""
log "ready in $(po_elapsed "$t0")s at $endpoint: source $state/env  (stop: hack/moto/down.sh $state)"
echo "$state"
