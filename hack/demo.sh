#!/usr/bin/env bash
# The main job end to end on the embedded default: `make demo` runs this.
#
# 1. builds the operator and personalize-local; 2. starts the local control plane (kube-apiserver
# with embedded etcd on 127.0.0.1) and installs the CRDs, and moto (S3); 3. fetches MovieLens 100K,
# converts it to Personalize CSVs and uploads them to S3; 4. starts personalize-local (reading
# imports from that S3) and the operator; 5. applies examples/movielens and shows progress until everything is Ready, then
# the offline metrics; 6. gets recommendations for a user, sends live clicks, and shows the change.
# Everything keeps running afterwards; `hack/demo.sh down` stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
state=${PO_DEMO_STATE:-$root/.cache/demo}
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
stop_pid() { [ -f "$1" ] && kill "$(cat "$1")" 2>/dev/null || true; rm -f "$1"; }

if [ "${1:-}" = down ]; then
  stop_pid "$state/operator.pid"; stop_pid "$state/local.pid"
  hack/kube/down.sh "$state/kube" >/dev/null 2>&1 || true
  hack/moto/down.sh "$state/moto" >/dev/null 2>&1 || true
  rm -rf "$state"; echo "demo stopped"; exit 0
fi
mkdir -p "$state"

step "building personalize-operator and personalize-local"
cargo build --quiet --bin personalize-operator && cargo build --quiet -p personalize-local --bin personalize-local
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug

step "starting the local control plane (the first run builds kube-apiserver: ~10 min)"
hack/kube/up.sh "$state/kube" >/dev/null
# shellcheck source=/dev/null
source "$state/kube/env"
"$bin/personalize-operator" crd | kubectl apply --server-side -f - >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/datasetgroups.personalize-operator.dev \
  crd/solutions.personalize-operator.dev crd/campaigns.personalize-operator.dev \
  crd/eventtrackers.personalize-operator.dev >/dev/null

step "starting moto (S3) and uploading MovieLens 100K as Personalize CSVs"
hack/moto/up.sh "$state/moto" >/dev/null
s3=$(cat "$state/moto/endpoint")
ml=$(hack/data/movielens.sh)
data="$state/movielens"
python3 hack/data/movielens-csv.py "$ml" "$data"
aws() { (source "$state/moto/env" && command aws "$@"); }
aws s3 mb s3://personalize-demo >/dev/null 2>&1 || true
aws s3 cp --quiet "$data/interactions.csv" s3://personalize-demo/movielens/interactions.csv
aws s3 cp --quiet "$data/items.csv" s3://personalize-demo/movielens/items.csv
echo "  $(($(wc -l < "$data/interactions.csv") - 1)) interactions, $(($(wc -l < "$data/items.csv") - 1)) movies in s3://personalize-demo/movielens/ ($s3)"

step "starting personalize-local and the operator"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
stop_pid "$state/local.pid"; stop_pid "$state/operator.pid"
"$bin/personalize-local" --listen "127.0.0.1:$port" --data-dir "$state/local" --transition-ms 1000 --s3-endpoint "$s3" \
  > "$state/local.log" 2>&1 & echo $! > "$state/local.pid"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
for _ in $(seq 50); do curl -fs "$AWS_ENDPOINT_URL/health" >/dev/null && break; sleep 0.2; done
"$bin/personalize-operator" run --poll-seconds 2 > "$state/operator.log" 2>&1 & echo $! > "$state/operator.pid"
echo "  personalize-local on $AWS_ENDPOINT_URL (log $state/local.log); operator log $state/operator.log"

step "kubectl apply -f examples/movielens/"
kubectl apply -f examples/movielens/
deadline=$(( $(date +%s) + 900 ))
until [ "$(kubectl get campaign movielens -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] &&
      [ "$(kubectl get eventtracker movielens -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { kubectl get personalize; echo "not Ready after 15 min" >&2; exit 1; }
  printf '\n[%ss]\n' "$(( $(date +%s) - started ))"; kubectl get personalize 2>/dev/null | sed 's/^/  /'
  sleep 5
done
step "everything is Ready"
kubectl get personalize
echo; echo "Offline metrics of the deployed version (GetSolutionMetrics):"
kubectl get solution movielens-user-personalization -o jsonpath='{.status.versions[0].metrics}' |
  python3 -c 'import json,sys; [print(f"  {k:45} {v:.4f}") for k,v in sorted(json.load(sys.stdin).items())]'

step "recommendations, live clicks, new recommendations"
venv=$(hack/python/venv.sh)
"$venv/bin/python" hack/demo/recommend.py --endpoint "$AWS_ENDPOINT_URL" \
  --campaign-arn "$(kubectl get campaign movielens -o jsonpath='{.status.arn}')" \
  --tracking-id "$(kubectl get eventtracker movielens -o jsonpath='{.status.trackingId}')" --data "$data"

cat <<MSG

Done in $(( $(date +%s) - started ))s. Everything is still running:
  source $state/kube/env                 # kubectl for this control plane
  kubectl get personalize                # the four kinds
  kubectl describe campaign movielens    # events for every AWS call
  kubectl delete -f examples/movielens/  # tear down in Personalize's order
  hack/demo.sh down                      # stop the control plane, personalize-local and the operator
MSG
