#!/usr/bin/env bash
# Tests the packaging: the Helm chart, the Argo CD health checks, the IAM policies, the Dockerfile
# and the sidecar example. On a fresh machine it builds or installs what it needs (helm from the Go
# module proxy, kube-apiserver + kubectl via hack/kube/build.sh, a Python venv with PyYAML, lupa,
# hadolint and kubernetes-validate), all cached under ${PO_CACHE_DIR:-~/.cache/personalize-operator}.
#
#   1. offline: chart CRDs == crds/, IAM policies, Argo CD health Lua on fixtures, hadolint,
#      helm lint --strict, helm template (default + hack/helm/values/*.yaml) checked by
#      check_manifests.py and kubernetes-validate, values the schema or the chart must refuse;
#   2. on a real kube-apiserver (its own, in a temp dir; or a running one: PO_KUBE_STATE=<dir of
#      hack/kube/up.sh>): helm install (CRDs included) and every object present; the real operator
#      binary (cargo build, in $CARGO_TARGET_DIR or the cache) run with the installed Deployment's
#      args and env and a token of the chart's ServiceAccount against personalize-local: /readyz,
#      /healthz, /metrics, the leader Lease, a DatasetGroup and an EventTracker reconciled to Ready
#      with their Secret and Events, then deleted, and no request refused by RBAC; server-side dry
#      runs of every rendering and of the examples; the operator's and the sidecar's permissions
#      exercised with impersonated requests (allowed and refused); helm upgrade to the namespaced
#      mode, where the full MovieLens example is applied, made Ready and deleted by the operator
#      under the chart's Role only (nothing left in Kubernetes or personalize-local, no RBAC
#      refusal); helm uninstall and every object gone.
# It never uses an ambient KUBECONFIG (that could be a real cluster).
#
# Usage: hack/helm/test.sh
# Env: PO_KUBE_STATE (reuse that control plane), PO_KUBE_BIN_DIR, CARGO_TARGET_DIR,
#      PO_HELM_TEST_RUN_OPERATOR=0 (skip the operator run: no cargo build), PO_HELM_TEST_TIMEOUT (s, 3600)
set -euo pipefail
if [ -z "${PO_HELM_TEST_INNER:-}" ]; then
  # Bounded: the cold tool builds fit well inside; each kubectl/helm call has its own timeout too.
  PO_HELM_TEST_INNER=1 exec timeout --foreground --kill-after=30 "${PO_HELM_TEST_TIMEOUT:-3600}" "$0" "$@"
fi
cd "$(dirname "$0")/../.."
chart=charts/personalize-operator
cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "missing tool '$1': $2"; }
need go "Go 1.26 builds helm and kube-apiserver/kubectl"
need python3 "Python 3.11 runs the checks (in a venv)"
for t in openssl curl flock timeout diff ss base64 sha256sum; do need "$t" "coreutils/openssl/curl/iproute2 (Debian packages)"; done

work=$(mktemp -d)
own_state=""
pids=()     # processes this script started (personalize-local, the operator), stopped by pid
# shellcheck source=hack/kube/env.sh
source hack/kube/env.sh  # po_free_port, po_stop_pid
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do po_stop_pid "$pid" "pid $pid" 10 || true; done
  if [ -n "$own_state" ]; then hack/kube/down.sh "$own_state" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  [ $rc -eq 0 ] || echo "hack/helm/test.sh failed (exit $rc) after $(($(date +%s) - started))s" >&2
}
trap cleanup EXIT
# helm keeps its own config and cache here, never in the user's.
export HELM_CONFIG_HOME=$work/helm/config HELM_CACHE_HOME=$work/helm/cache HELM_DATA_HOME=$work/helm/data
unset KUBECONFIG

run_operator=${PO_HELM_TEST_RUN_OPERATOR:-1}
[ "$run_operator" = 0 ] || need cargo "Rust builds the operator and personalize-local (PO_HELM_TEST_RUN_OPERATOR=0 skips that step)"

step "tools: helm, kube-apiserver + kubectl, Python venv (cached builds)"
helm=$(hack/helm/helm.sh)
[ -x "$helm" ] || fail "no helm binary from hack/helm/helm.sh"
if [ -z "${PO_KUBE_BIN_DIR:-}" ]; then
  mkdir -p "$cache_root/kube"
  PO_KUBE_BIN_DIR=$(flock -w 3600 "$cache_root/kube/.build.lock" hack/kube/build.sh)
fi
export PO_KUBE_BIN_DIR
kubectl=$PO_KUBE_BIN_DIR/kubectl
[ -x "$kubectl" ] || fail "no kubectl in $PO_KUBE_BIN_DIR"
venv=$(hack/python/venv.sh hack/helm/requirements.txt)
py=$venv/bin/python
for t in "$venv/bin/hadolint" "$venv/bin/kubernetes-validate"; do [ -x "$t" ] || fail "missing $t"; done
echo "helm: $("$helm" version --short)  kubectl: $("$kubectl" version --client -o json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"

step "chart CRDs are the generated ones (crds/)"
hack/helm/sync-crds.sh --check

step "IAM policies (docs/iam): valid, and exactly the operations the code calls"
"$py" hack/helm/check_iam.py

step "Argo CD health checks: Lua 5.1 on every fixture"
"$py" hack/argocd/test.py
"$venv/bin/kubernetes-validate" --strict -k 1.35.0 "$chart/argocd/argocd-cm.yaml" >/dev/null ||
  fail "$chart/argocd/argocd-cm.yaml is not a valid ConfigMap"
echo "ok   argocd-cm.yaml is a valid ConfigMap"

step "Argo CD sync waves in the examples: DatasetGroup 0, Solution/Recommender 1, Campaign/EventTracker/Filter/MetricAttribution 2, app 3"
"$py" - <<'PY'
import pathlib, sys, yaml
want = {"DatasetGroup": "0", "Solution": "1", "Recommender": "1", "Campaign": "2", "EventTracker": "2",
        "Filter": "2", "MetricAttribution": "2", "Deployment": "3"}
bad, seen = [], 0
for path in [p for d in ["movielens", "video-on-demand", "sidecar"] for p in sorted(pathlib.Path("examples", d).glob("*.yaml"))]:
    for d in yaml.safe_load_all(path.read_text()):
        if d and d["kind"] in want:
            seen += 1
            wave = (d["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave")
            if wave != want[d["kind"]]:
                bad.append(f"{path}: {d['kind']} has sync-wave {wave!r}, want {want[d['kind']]!r}")
print("\n".join(bad) or f"ok   {seen} objects carry their sync wave")
sys.exit(1 if bad or seen < 9 else 0)
PY

step "Dockerfile: hadolint"
"$venv/bin/hadolint" Dockerfile && echo "hadolint: Dockerfile clean"

values_args() { # values_args CASE: helm -f flags for a case
  [ "$1" = default ] || printf -- '-f\n%s\n' "$1"
}
step "helm lint --strict (default values and every hack/helm/values/*.yaml)"
for c in default hack/helm/values/*.yaml; do
  mapfile -t vf < <(values_args "$c")
  "$helm" lint --strict "$chart" "${vf[@]}" >"$work/lint.log" 2>&1 || { cat "$work/lint.log"; fail "helm lint --strict ($c)"; }
  echo "ok   helm lint --strict ($c)"
done

step "helm package: the chart stands alone (CRDs, schema, Argo CD health checks inside)"
"$helm" package "$chart" -d "$work" >/dev/null
tar tzf "$work"/personalize-operator-*.tgz | sort >"$work/package.txt"
for f in Chart.yaml values.yaml values.schema.json templates/NOTES.txt argocd/health.lua argocd/argocd-cm.yaml \
  crds/datasetgroups.personalize-operator.dev.yaml crds/solutions.personalize-operator.dev.yaml \
  crds/campaigns.personalize-operator.dev.yaml crds/eventtrackers.personalize-operator.dev.yaml; do
  grep -qx "personalize-operator/$f" "$work/package.txt" || fail "the packaged chart lacks $f"
done
echo "ok   $(basename "$work"/personalize-operator-*.tgz): $(wc -l <"$work/package.txt") files, CRDs, schema and argocd/ included"

step "helm template: rendered manifests checked offline"
ns=personalize-system
for c in default hack/helm/values/*.yaml; do
  name=$(basename "$c" .yaml)
  mapfile -t vf < <(values_args "$c")
  "$helm" template po "$chart" -n "$ns" "${vf[@]}" >"$work/$name.yaml"
  mapfile -t checked_values < <(echo "$chart/values.yaml"; [ "$c" = default ] || echo "$c")
  "$py" hack/helm/check_manifests.py "$work/$name.yaml" "$ns" "${checked_values[@]}" >"$work/check.log" ||
    { cat "$work/check.log"; fail "rendered manifests ($c)"; }
  tail -n1 "$work/check.log"
  # Offline schema validation of the built-in kinds (the ServiceMonitor is a CRD: skipped here,
  # validated by the apiserver below).
  "$py" - "$work/$name.yaml" "$work/$name.builtin.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] != "ServiceMonitor"]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
  "$venv/bin/kubernetes-validate" --strict -k 1.35.0 "$work/$name.builtin.yaml" >"$work/kv.log" 2>&1 ||
    { cat "$work/kv.log"; fail "kubernetes-validate ($c)"; }
  echo "ok   kubernetes-validate --strict -k 1.35.0 ($(grep -c . "$work/kv.log") documents)"
done
"$helm" template po "$chart" -n "$ns" --include-crds >"$work/with-crds.yaml"
crd_count=$(find crds -name '*.yaml' | wc -l)
[ "$(grep -c '^kind: CustomResourceDefinition' "$work/with-crds.yaml")" = "$crd_count" ] ||
  fail "helm template --include-crds does not render the $crd_count CRDs of crds/"
echo "ok   --include-crds renders the CRDs (Argo CD applies them on every sync)"

step "values the chart must refuse"
refuse() { # refuse WHAT ARGS...: helm template must fail
  local what=$1; shift
  if "$helm" template po "$chart" -n "$ns" "$@" >/dev/null 2>"$work/refuse.log"; then
    fail "helm template accepted $what ($*)"
  fi
  echo "ok   refused: $what ($(grep -m1 -oE '(values don.t meet|execution error|Error).*' "$work/refuse.log" | cut -c1-110))"
}
refuse "privilege escalation" --set securityContext.allowPrivilegeEscalation=true
refuse "running as root" --set podSecurityContext.runAsNonRoot=false
refuse "two replicas without leader election" --set leaderElection.enabled=false --set replicaCount=2
refuse "a malformed IRSA role ARN" --set serviceAccount.roleArn=my-role
refuse "an unknown log format" --set operator.logFormat=xml
refuse "a typo in a top-level key" --set watchNamspace=x
refuse "a ServiceMonitor without the Service" --set metrics.serviceMonitor.enabled=true --set metrics.service.enabled=false

step "test apiserver"
if [ -n "${PO_KUBE_STATE:-}" ]; then
  state=$(hack/kube/up.sh "$PO_KUBE_STATE")
else
  own_state=$work/kube
  state=$(hack/kube/up.sh --owner-pid $$ "$own_state")
fi
export KUBECONFIG=$state/kubeconfig
k() { "$kubectl" --request-timeout=30s "$@"; }
k version -o json | "$py" -c 'import json,sys; print("apiserver", json.load(sys.stdin)["serverVersion"]["gitVersion"])'
run_id=$(date +%s)-$$
ns=po-helm-$run_id          # the release namespace
apps=movies-$run_id         # where the examples go
watched=team-movies         # hack/helm/values/namespaced.yaml
release=po
k create namespace "$ns" >/dev/null
k create namespace "$apps" >/dev/null
k get namespace "$watched" >/dev/null 2>&1 || k create namespace "$watched" >/dev/null
# prometheus-operator's ServiceMonitor CRD stands in as a minimal schema-less CRD.
k apply --server-side -f - >/dev/null <<'EOF_CRD'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF_CRD
k wait --for condition=established --timeout=60s crd/servicemonitors.monitoring.coreos.com >/dev/null

step "helm install (full values: IRSA, tracking-id Secrets, ServiceMonitor, 2 replicas)"
sa=system:serviceaccount:$ns:$release-personalize-operator
"$helm" install "$release" "$chart" -n "$ns" -f hack/helm/values/full.yaml --timeout 2m >"$work/install.log" ||
  { cat "$work/install.log"; fail "helm install"; }
grep -q "personalize-operator 0.1.0 is installed" "$work/install.log" || fail "helm install printed no NOTES"
echo "ok   helm install; NOTES printed"
for crd in datasetgroups solutions campaigns eventtrackers filters recommenders metricattributions \
  batchinferencejobs batchsegmentjobs datasetexportjobs datadeletionjobs; do
  k wait --for condition=established --timeout=60s "crd/$crd.personalize-operator.dev" >/dev/null
done
echo "ok   the chart installed every CRD and they are Established"
"$helm" get manifest "$release" -n "$ns" >"$work/manifest.yaml"
objects() { # kind/name namespace lines of a manifest
  "$py" - "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d:
        print(f'{d["kind"]}/{d["metadata"]["name"]} {d["metadata"].get("namespace", "")}')
PY
}
objects "$work/manifest.yaml" >"$work/objects.txt"
while read -r obj namespace; do
  if [ -n "$namespace" ]; then k get -n "$namespace" "$obj" -o name >/dev/null; else k get "$obj" -o name >/dev/null; fi ||
    fail "$obj is missing after helm install"
  echo "ok   exists: $obj${namespace:+ -n $namespace}"
done <"$work/objects.txt"
want=$(grep -c '^kind: ' "$work/full.yaml")
[ "$(wc -l <"$work/objects.txt")" = "$want" ] || fail "expected the $want objects of the rendering, got $(wc -l <"$work/objects.txt")"

# start_local ARGS...: personalize-local on a free loopback port ($lport), in the background.
start_local() {
  lport=$(po_free_port none)
  setsid "$target/debug/personalize-local" --listen "127.0.0.1:$lport" --transition-ms 0 "$@" \
    </dev/null >"$work/local.log" 2>&1 &
  pids+=($!)
}
# start_operator MANIFEST: the operator binary as the rendered Deployment runs it, with a token of
# the chart's ServiceAccount (so only the chart's RBAC authorizes it), against personalize-local;
# returns once /readyz answers. Sets op_pid and hport.
start_operator() {
  hport=$(po_free_port "$lport")
  rm -f "$work/operator.kubeconfig"
  local token
  token=$(k create token "$release-personalize-operator" -n "$ns" --duration=1h)
  setsid "$py" hack/helm/run_operator.py "$1" "$target/debug/personalize-operator" \
    "$KUBECONFIG" "$work/operator.kubeconfig" "$token" po-test-0 "127.0.0.1:$hport" \
    AWS_ENDPOINT_URL="http://127.0.0.1:$lport" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_REGION=us-east-1 RUST_LOG=info </dev/null >"$work/operator.log" 2>&1 &
  op_pid=$!
  pids+=("$op_pid")
  for _ in $(seq 1 50); do [ -s "$work/operator.kubeconfig" ] && break; sleep 0.2; done
  who=$(KUBECONFIG=$work/operator.kubeconfig "$kubectl" --request-timeout=30s auth whoami -o jsonpath='{.status.userInfo.username}')
  [ "$who" = "$sa" ] || fail "the operator's kubeconfig authenticates as '$who', not $sa"
  echo "ok   the operator authenticates as $who (chart RBAC only)"
  local ready_deadline=$(($(date +%s) + 60))
  until curl -fsS --max-time 2 "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1; do
    po_alive "$op_pid" || { cat "$work/operator.log"; fail "the operator exited"; }
    [ "$(date +%s)" -lt "$ready_deadline" ] || { tail -n 30 "$work/operator.log"; fail "/readyz not ready after 60s"; }
    sleep 0.5
  done
}
# no_rbac_denials: the operator's log shows no request refused by RBAC.
no_rbac_denials() {
  if grep -qi forbidden "$work/operator.log"; then
    grep -i forbidden "$work/operator.log" | head -n 5
    fail "the operator was refused something by the chart's RBAC"
  fi
  echo "ok   no request refused by RBAC in the operator's log"
}
# shellcheck source=hack/cargo-env.sh
source hack/cargo-env.sh
target=$CARGO_TARGET_DIR
if [ "$run_operator" = 1 ]; then
  step "the operator binary, run with the Deployment's args and env and a token of its ServiceAccount"
  cargo build --locked --quiet -p personalize-operator -p personalize-local --bins
  start_local --in-memory
  start_operator "$work/manifest.yaml"
  echo "ok   /readyz answers on the named port's address (--http-address)"
  curl -fsS --max-time 5 "http://127.0.0.1:$hport/healthz" >/dev/null || fail "/healthz"
  echo "ok   /healthz answers"
  for _ in $(seq 1 60); do
    holder=$(k get lease -n "$ns" po-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
    [ "$holder" = po-test-0 ] && break
    sleep 0.5
  done
  [ "$holder" = po-test-0 ] || { tail -n 30 "$work/operator.log"; fail "the Lease po-leader is held by '$holder', not po-test-0 (POD_NAME)"; }
  echo "ok   leader election: Lease $ns/po-leader held by POD_NAME"
  opns=op-$run_id
  k create namespace "$opns" >/dev/null
  # The MovieLens DatasetGroup without its S3 import, and the EventTracker with a tracking-id Secret.
  "$py" - examples/movielens/00-dataset-group.yaml >"$work/dg.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for ds in d["spec"]["datasets"].values():
    ds.pop("import", None)
print(yaml.safe_dump(d))
PY
  k apply -n "$opns" -f "$work/dg.yaml" -f examples/movielens/20-event-tracker.yaml >/dev/null
  k wait -n "$opns" --for=condition=Ready --timeout=120s datasetgroup/movielens eventtracker/movielens >/dev/null ||
    { k get -n "$opns" personalize -o yaml | tail -n 40; tail -n 30 "$work/operator.log"; fail "not Ready"; }
  echo "ok   DatasetGroup and EventTracker reconciled to Ready (finalizers, status, AWS calls)"
  tracking=$(k get -n "$opns" eventtracker movielens -o jsonpath='{.status.trackingId}')
  secret=$(k get -n "$opns" secret movielens-tracking-id -o jsonpath='{.data.trackingId}' | base64 -d)
  { [ -n "$tracking" ] && [ "$secret" = "$tracking" ]; } || fail "tracking-id Secret '$secret' != status '$tracking'"
  echo "ok   the tracking-id Secret was server-side applied"
  events=$(k get events.events.k8s.io -n "$opns" -o name | wc -l)
  [ "$events" -gt 0 ] || fail "no Events recorded"
  echo "ok   $events Events recorded (events.k8s.io)"
  curl -fsS --max-time 5 "http://127.0.0.1:$hport/metrics" >"$work/metrics.txt" || fail "/metrics"
  grep -q '^personalize_operator_leader 1$' "$work/metrics.txt" || fail "/metrics: not the leader"
  grep -q '^personalize_operator_aws_calls_total{' "$work/metrics.txt" || fail "/metrics: no AWS calls counted"
  echo "ok   /metrics: leader 1, $(grep -vc '^#' "$work/metrics.txt") samples (the metrics Service's target port)"
  k delete -n "$opns" eventtracker/movielens datasetgroup/movielens --timeout=120s >/dev/null ||
    { tail -n 30 "$work/operator.log"; fail "cleanup did not finish"; }
  echo "ok   deletion: the operator cleaned up and removed its finalizers"
  no_rbac_denials
  for pid in "${pids[@]}"; do po_stop_pid "$pid" "pid $pid" 10; done
  pids=()
  k delete -n "$ns" lease po-leader >/dev/null 2>&1 || true
fi

step "server-side dry runs: every rendering, the examples"
for c in default hack/helm/values/*.yaml; do
  name=$(basename "$c" .yaml)
  # Into another namespace than the installed release's, so nothing collides.
  sed "s/namespace: personalize-system/namespace: $apps/" "$work/$name.yaml" |
    sed -E "s/^  name: po-personalize-operator(.*)$/  name: dry-$name\1/" >"$work/$name.dry.yaml"
  k apply --dry-run=server -f "$work/$name.dry.yaml" >"$work/dry.log" || { cat "$work/dry.log"; fail "dry run of $name"; }
  echo "ok   dry-run=server: $name ($(wc -l <"$work/dry.log") objects)"
done
k apply --dry-run=server -R -n "$apps" -f examples/ >"$work/dry.log" || { cat "$work/dry.log"; fail "dry run of examples/"; }
echo "ok   dry-run=server: examples/ ($(wc -l <"$work/dry.log") objects, sync waves included)"

step "the operator's permissions, exercised as its ServiceAccount"
as=(--as="$sa")
allow() { # allow WHAT CMD...: the command must succeed as the operator
  local what=$1; shift
  "$@" >"$work/as.log" 2>&1 || { cat "$work/as.log"; fail "the operator cannot $what"; }
  echo "ok   allowed: $what"
}
deny() { # deny WHAT CMD...: the command must be refused as Forbidden
  local what=$1; shift
  if "$@" >"$work/as.log" 2>&1; then fail "the operator can $what (should be refused)"; fi
  grep -qi forbidden "$work/as.log" || { cat "$work/as.log"; fail "$what failed, but not as Forbidden"; }
  echo "ok   refused: $what"
}
k apply -n "$apps" -f examples/movielens/ >/dev/null
allow "list DatasetGroups in all namespaces" k "${as[@]}" get datasetgroups -A
# The operator's own requests, sent raw (kubectl would add GETs the operator never makes).
req() { "$py" hack/helm/kreq.py "$sa" "$@"; }
allow "watch Campaigns in all namespaces" req GET "/apis/personalize-operator.dev/v1alpha1/campaigns?watch=1&timeoutSeconds=1"
allow "get a referenced Solution" k "${as[@]}" get -n "$apps" solution movielens-user-personalization
apply_ct=application/apply-patch+yaml
fm='fieldManager=personalize-operator&force=true'
allow "add its finalizer (JSON patch)" req PATCH \
  "/apis/personalize-operator.dev/v1alpha1/namespaces/$apps/datasetgroups/movielens" application/json-patch+json \
  '[{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["personalize-operator.dev/cleanup"]}]'
allow "server-side apply status" req PATCH \
  "/apis/personalize-operator.dev/v1alpha1/namespaces/$apps/eventtrackers/movielens/status?$fm" "$apply_ct" \
  '{"apiVersion":"personalize-operator.dev/v1alpha1","kind":"EventTracker","status":{"status":"ACTIVE","trackingId":"0c1d2e3f"}}'
[ "$(k get -n "$apps" eventtracker movielens -o jsonpath='{.status.trackingId}')" = 0c1d2e3f ] || fail "status not written"
uid=$(k get -n "$apps" eventtracker movielens -o jsonpath='{.metadata.uid}')
allow "server-side apply the tracking-id Secret (creating it), owned by the EventTracker" req PATCH \
  "/api/v1/namespaces/$apps/secrets/movielens-tracking-id?$fm" "$apply_ct" \
  "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"movielens-tracking-id\",\"ownerReferences\":[{\"apiVersion\":\"personalize-operator.dev/v1alpha1\",\"kind\":\"EventTracker\",\"name\":\"movielens\",\"uid\":\"$uid\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"stringData\":{\"trackingId\":\"0c1d2e3f\"}}"
[ "$(k get -n "$apps" secret movielens-tracking-id -o jsonpath='{.data.trackingId}' | base64 -d)" = 0c1d2e3f ] || fail "Secret not written"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
allow "create an Event (events.k8s.io/v1)" req POST "/apis/events.k8s.io/v1/namespaces/$apps/events" application/json \
  "{\"metadata\":{\"name\":\"movielens.1\"},\"eventTime\":\"$now\",\"reportingController\":\"personalize-operator.dev/operator\",\"reportingInstance\":\"po-0\",\"action\":\"Reconcile\",\"reason\":\"Created\",\"type\":\"Normal\",\"note\":\"created\",\"regarding\":{\"apiVersion\":\"personalize-operator.dev/v1alpha1\",\"kind\":\"DatasetGroup\",\"name\":\"movielens\",\"namespace\":\"$apps\"}}"
allow "patch an Event (a repeat)" req PATCH "/apis/events.k8s.io/v1/namespaces/$apps/events/movielens.1" \
  application/merge-patch+json '{"series":{"count":2,"lastObservedTime":"'"$now"'"}}'
lease_path=/apis/coordination.k8s.io/v1/namespaces/$ns/leases
allow "create its Lease" req POST "$lease_path" application/json \
  '{"metadata":{"name":"po-leader"},"spec":{"holderIdentity":"po-0","leaseDurationSeconds":15}}'
allow "get its Lease" req GET "$lease_path/po-leader"
lease=$(k get -n "$ns" lease po-leader -o json | sed 's/"po-0"/"po-1"/')
allow "renew or take over its Lease (update)" req PUT "$lease_path/po-leader" application/json "$lease"
deny "delete a DatasetGroup" k "${as[@]}" delete -n "$apps" datasetgroup movielens --wait=false
deny "create a Campaign" k "${as[@]}" create -n "$apps" -f examples/movielens/20-campaign.yaml --dry-run=server
deny "read the Secret it wrote" k "${as[@]}" get -n "$apps" secret movielens-tracking-id
deny "list Secrets" k "${as[@]}" get secrets -A
deny "read another Lease" req GET "$lease_path/other"
deny "update another Lease" req PUT "$lease_path/other" application/json '{"metadata":{"name":"other"},"spec":{}}'
deny "create a Lease outside its namespace" req POST "/apis/coordination.k8s.io/v1/namespaces/$apps/leases" application/json '{"metadata":{"name":"po-leader"},"spec":{}}'
deny "create a core/v1 Event" req POST "/api/v1/namespaces/$apps/events" application/json '{"metadata":{"name":"x"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"x"}'
deny "list Pods" k "${as[@]}" get pods -A

step "the sidecar example: applied, and its permissions exercised"
k apply -n "$apps" -f examples/sidecar/ >/dev/null
for o in serviceaccount/movie-site role/movie-site rolebinding/movie-site deployment/movie-site service/movie-site; do
  k get -n "$apps" "$o" -o name >/dev/null || fail "examples/sidecar: $o missing"
done
echo "ok   examples/sidecar applied (ServiceAccount, Role, RoleBinding, Deployment, Service)"
ias=(--as="system:serviceaccount:$apps:movie-site")
ireq() { "$py" hack/helm/kreq.py "system:serviceaccount:$apps:movie-site" "$@"; }
allow "(sidecar) list its EventTracker by name" k "${ias[@]}" get -n "$apps" eventtrackers --field-selector metadata.name=movielens
allow "(sidecar) watch its EventTracker by name" ireq GET \
  "/apis/personalize-operator.dev/v1alpha1/namespaces/$apps/eventtrackers?fieldSelector=metadata.name%3Dmovielens&watch=1&timeoutSeconds=1"
allow "(sidecar) get its EventTracker" k "${ias[@]}" get -n "$apps" eventtracker movielens
allow "(gateway) get its Campaign" k "${ias[@]}" get -n "$apps" campaign movielens
allow "(sidecar) create a shard Lease" k "${ias[@]}" create -f <(printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"movielens-clicks-shardid-0","namespace":"%s"},"spec":{"holderIdentity":"movie-site-0"}}' "$apps")
allow "(sidecar) list Leases" k "${ias[@]}" get -n "$apps" leases
allow "(sidecar) take over a Lease (update)" sh -c "'$kubectl' --request-timeout=30s get -n '$apps' lease movielens-clicks-shardid-0 -o json | sed 's/movie-site-0/movie-site-1/' | '$kubectl' --request-timeout=30s --as='system:serviceaccount:$apps:movie-site' replace -f -"
deny "(sidecar) list every EventTracker" k "${ias[@]}" get -n "$apps" eventtrackers
deny "(sidecar) read another Campaign" k "${ias[@]}" get -n "$apps" campaign other
deny "(sidecar) patch its EventTracker" k "${ias[@]}" patch -n "$apps" eventtracker movielens --type=merge -p '{"spec":{"tags":{"a":"b"}}}'
deny "(sidecar) read Secrets" k "${ias[@]}" get -n "$apps" secrets

step "helm upgrade to the namespaced mode (hack/helm/values/namespaced.yaml)"
"$helm" upgrade "$release" "$chart" -n "$ns" -f hack/helm/values/namespaced.yaml --timeout 2m >/dev/null
k get -n "$watched" role "$release-personalize-operator" -o name >/dev/null || fail "no Role in $watched"
if k get clusterrole "$release-personalize-operator" -o name >/dev/null 2>&1; then fail "ClusterRole left after the upgrade"; fi
echo "ok   a Role in $watched, the ClusterRole gone"
allow "list DatasetGroups in the watched namespace" k "${as[@]}" get -n "$watched" datasetgroups
deny "list DatasetGroups elsewhere" k "${as[@]}" get -n "$apps" datasetgroups
"$helm" get manifest "$release" -n "$ns" >"$work/manifest.yaml"
objects "$work/manifest.yaml" >"$work/objects.txt"

if [ "$run_operator" = 1 ]; then
  step "namespaced mode: the full MovieLens example applied, Ready, deleted, under the chart's Role only"
  data=$work/local-data
  mkdir -p "$data/s3/personalize-demo/movielens"
  # Generated interactions in the example's shape, enough to pass Personalize's training minimums.
  "$py" - "$data/s3/personalize-demo/movielens" <<'PY'
import pathlib, sys
d = pathlib.Path(sys.argv[1])
rows = ["USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP"]
for user in range(60):
    for k in range(25):
        rows.append(f"{user},{(user % 3) * 40 + (user * 7 + k * 3) % 40},watch,{1_600_000_000 + user * 100 + k}")
(d / "interactions.csv").write_text("\n".join(rows) + "\n")
genres = ["Drama", "Comedy", "Action"]
(d / "items.csv").write_text("ITEM_ID,GENRES,YEAR\n" + "".join(f"{i},{genres[i // 40]},{1990 + i % 20}\n" for i in range(120)))
PY
  start_local --data-dir "$data"
  start_operator "$work/manifest.yaml"
  k apply -n "$watched" -f examples/movielens/ >/dev/null
  k wait -n "$watched" --for=condition=Ready --timeout=300s \
    datasetgroup/movielens solution/movielens-user-personalization campaign/movielens eventtracker/movielens \
    filter/genre >/dev/null ||
    { k get -n "$watched" personalize -o yaml | tail -n 60; tail -n 30 "$work/operator.log"; fail "not Ready in namespaced mode"; }
  echo "ok   DatasetGroup, Solution, Campaign, EventTracker and Filter Ready in $watched"
  k delete -n "$watched" -f examples/movielens/ --timeout=300s >/dev/null ||
    { k get -n "$watched" personalize -o yaml | tail -n 60; tail -n 30 "$work/operator.log"; fail "deletion did not finish in namespaced mode"; }
  left=$(k get -n "$watched" personalize -o name)
  [ -z "$left" ] || fail "objects left in $watched: $left"
  echo "ok   deleted: nothing left in Kubernetes"
  # personalize-local answers unsigned requests when --verify-sigv4 is off (as here).
  local_list() { # local_list OPERATION MEMBER: how many entries personalize-local lists
    curl -fsS --max-time 10 -X POST "http://127.0.0.1:$lport/" -H "X-Amz-Target: AmazonPersonalize.$1" \
      -H 'Content-Type: application/x-amz-json-1.1' -d '{}' |
      "$py" -c "import json,sys; print(len(json.load(sys.stdin)['$2']))"
  }
  for what in "ListDatasetGroups datasetGroups" "ListSchemas schemas" "ListCampaigns campaigns" "ListSolutions solutions" "ListEventTrackers eventTrackers" "ListFilters Filters"; do
    set -- $what
    n=$(local_list "$1" "$2") || fail "$1 on personalize-local"
    [ "$n" = 0 ] || fail "$1: $n left in personalize-local after deletion"
  done
  echo "ok   deleted: nothing left in personalize-local (dataset groups, schemas, solutions, campaigns, trackers, filters)"
  no_rbac_denials
  for pid in "${pids[@]}"; do po_stop_pid "$pid" "pid $pid" 10; done
  pids=()
  k delete -n "$ns" lease po-leader >/dev/null 2>&1 || true
fi

step "helm uninstall: every object gone (CRDs stay, by Helm's design)"
"$helm" uninstall "$release" -n "$ns" --wait --timeout 2m >/dev/null
while read -r obj namespace; do
  if k get ${namespace:+-n "$namespace"} "$obj" -o name >/dev/null 2>&1; then fail "$obj left after helm uninstall"; fi
done <"$work/objects.txt"
echo "ok   $(wc -l <"$work/objects.txt") objects removed"
k get crd datasetgroups.personalize-operator.dev -o name >/dev/null || fail "CRD removed by uninstall"
echo "ok   CRDs kept (delete them yourself: kubectl delete -f $chart/crds/)"
if [ -n "${PO_KUBE_STATE:-}" ]; then
  k delete namespace "$ns" "$apps" --wait=false >/dev/null
fi

step "packaging tests passed in $(($(date +%s) - started))s"
