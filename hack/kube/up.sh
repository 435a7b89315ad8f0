#!/usr/bin/env bash
# Starts (or reuses) the project's local Kubernetes control plane: one kube-apiserver process with
# etcd embedded, on 127.0.0.1 only, with its state (PKI, token, etcd data, log, pid, kubeconfig)
# in STATE_DIR. It owns STATE_DIR and the processes recorded there; hack/kube/down.sh undoes it.
#
# Usage: hack/kube/up.sh [--owner-pid PID] [STATE_DIR]
#   STATE_DIR     default ${PO_KUBE_STATE:-$PWD/.cache/kube}
#   --owner-pid   also start a watchdog that runs down.sh once PID exits (the testkit passes its
#                 own pid, so a control plane never outlives the test process that started it).
# Env: PO_KUBE_BIN_DIR (skip build.sh; a dir with kube-apiserver and kubectl),
#      PO_KUBE_READY_TIMEOUT (seconds, default 90).
#
# Idempotent: if the control plane of STATE_DIR is running and ready it is reused as is; a stale
# one (dead pid) is wiped and started fresh. Prints STATE_DIR on stdout, progress on stderr.
# Writes STATE_DIR/kubeconfig (CA + token; read by kubectl and kube-rs) and STATE_DIR/env
# (`source` it: KUBECONFIG, PO_KUBE_STATE, and PATH with the built kubectl first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/kube/env.sh
source "$here/env.sh"

owner=""
while [ $# -gt 0 ]; do
  case $1 in
    --owner-pid) owner=${2:?--owner-pid needs a pid}; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "up.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
state=${1:-${PO_KUBE_STATE:-$PWD/.cache/kube}}
mkdir -p "$state"
state=$(cd "$state" && pwd)
timeout=${PO_KUBE_READY_TIMEOUT:-90}
log() { echo "up.sh: $*" >&2; }

# One up.sh per state dir at a time. fd 9 is closed for everything started in the background.
exec 9>"$state/.lock"
flock -w 1800 9 || { log "timed out waiting for the lock on $state"; exit 1; }

ready() { # ready PORT: /readyz answers ok over TLS verified with our CA
  curl -fsS --max-time 5 --cacert "$state/pki/ca.crt" "https://127.0.0.1:$1/readyz" >/dev/null 2>&1
}

# 1. Reuse a running, ready control plane.
pid=$(po_read_pid "$state/apiserver.pid")
if [ -n "$pid" ] && po_pid_matches "$pid" "$state"; then
  port=$(cat "$state/port" 2>/dev/null || true)
  if [ -n "$port" ] && [ -f "$state/kubeconfig" ] && ready "$port"; then
    log "reusing the control plane at https://127.0.0.1:$port (pid $pid)"
    if [ -n "$owner" ] && ! po_pid_matches "$(po_read_pid "$state/watchdog.pid")" "$state"; then
      po_start_watchdog "$owner" "$here/down.sh" "$state"
    fi
    echo "$state"
    exit 0
  fi
  log "pid $pid of $state is alive but not ready; restarting it"
  po_stop_pid "$pid" kube-apiserver
fi
po_stop_watchdog "$state"

# 2. Binaries (cached; a cold build takes 10-25 min). Serialised: build.sh is not concurrency-safe.
if [ -n "${PO_KUBE_BIN_DIR:-}" ]; then
  bin=$PO_KUBE_BIN_DIR
else
  cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
  mkdir -p "$cache_root/kube"
  bin=$(flock -w 3600 "$cache_root/kube/.build.lock" "$here/build.sh" 9>&-)
fi
if [ ! -x "$bin/kube-apiserver" ] || [ ! -x "$bin/kubectl" ]; then
  log "no kube-apiserver/kubectl in '$bin'"
  exit 1
fi
bin=$(cd "$bin" && pwd)

# 3. Fresh state: PKI, token, etcd data. A stale etcd would keep old Terminating namespaces.
find "$state" -mindepth 1 -maxdepth 1 ! -name .lock ! -name .po-kube-state -exec rm -rf {} +
touch "$state/.po-kube-state" # marker: down.sh only deletes directories carrying it
mkdir -p "$state/pki" "$state/etcd"
chmod 700 "$state/pki" "$state/etcd"
(
  cd "$state/pki"
  exec >/dev/null 2>openssl.log
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=personalize-operator-test-ca" \
    -keyout ca.key -out ca.crt
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr
  printf '%s\n' \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1" \
    "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "basicConstraints=critical,CA:FALSE" >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
    -extfile san.ext -out apiserver.crt
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
) || { log "openssl failed: $(cat "$state/pki/openssl.log")"; exit 1; }
token=$(openssl rand -hex 24)
echo "$token,admin,admin-uid,system:masters" >"$state/pki/tokens.csv"
chmod 600 "$state/pki/tokens.csv"
ln -s "$bin" "$state/bin"

# 4. Start, retrying with new ports if a port was taken between the pick and the bind.
started=""
cleanup_on_error() { [ -z "$started" ] || po_stop_pid "$started" kube-apiserver 5 || true; }
trap cleanup_on_error EXIT
t0=$(po_now)
for attempt in 1 2 3; do
  port=$(po_free_port none)
  etcd_port=$(po_free_port "$port")
  peer_port=$(po_free_port "$port" "$etcd_port")
  rm -rf "$state/etcd" && mkdir -m 700 "$state/etcd"
  EMBED_ETCD_DIR="$state/etcd" EMBED_ETCD_PORT=$etcd_port EMBED_ETCD_PEER_PORT=$peer_port \
    setsid "$bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --secure-port="$port" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --tls-cert-file="$state/pki/apiserver.crt" --tls-private-key-file="$state/pki/apiserver.key" \
    --cert-dir="$state/pki" \
    --client-ca-file="$state/pki/ca.crt" \
    --token-auth-file="$state/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$state/pki/sa.pub" \
    --service-account-signing-key-file="$state/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --allow-privileged=true --disable-admission-plugins=ServiceAccount \
    --profiling=false --v=1 \
    </dev/null >"$state/apiserver.log" 2>&1 9>&- &
  started=$!
  echo "$started" >"$state/apiserver.pid"
  echo "$port" >"$state/port"
  [ -z "$owner" ] || po_start_watchdog "$owner" "$here/down.sh" "$state"
  log "kube-apiserver pid $started on https://127.0.0.1:$port (etcd 127.0.0.1:$etcd_port), waiting for /readyz ..."

  deadline=$(($(date +%s) + timeout))
  while ! ready "$port"; do
    if ! po_alive "$started"; then
      wait "$started" 2>/dev/null || true
      break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "kube-apiserver not ready after ${timeout}s; last lines of $state/apiserver.log:"
      tail -n 40 "$state/apiserver.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  po_alive "$started" && break
  started=""
  if grep -qiE 'address already in use' "$state/apiserver.log" && [ "$attempt" -lt 3 ]; then
    log "a port was taken meanwhile; retrying with new ports"
    continue
  fi
  log "kube-apiserver exited during startup; last lines of $state/apiserver.log:"
  tail -n 40 "$state/apiserver.log" >&2
  exit 1
done

# 5. Client side: kubeconfig with the CA inline (one self-contained file), and an env file.
umask 077
cat >"$state/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: po-local
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 <"$state/pki/ca.crt")
users:
- name: admin
  user:
    token: $token
contexts:
- name: po-local
  context:
    cluster: po-local
    user: admin
    namespace: default
current-context: po-local
EOF
cat >"$state/env" <<EOF
export PO_KUBE_STATE='$state'
export KUBECONFIG='$state/kubeconfig'
export PATH='$bin':"\$PATH"
EOF
started="" # ready: from here on the control plane is kept
log "ready in $(po_elapsed "$t0")s: source $state/env  (stop: hack/kube/down.sh $state)"
echo "$state"
