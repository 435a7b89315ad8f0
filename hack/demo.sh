#!/usr/bin/env bash
# The seed scenario end to end with no AWS account: `make demo` runs this.
#
# Usage: hack/demo.sh [up]      the walkthrough below; everything keeps running afterwards
#        hack/demo.sh teardown  kubectl delete -f examples/movielens/, wait until the objects are
#                               gone, show that personalize-local holds nothing, then stop it all
#        hack/demo.sh down      stop every process the demo started and remove its state
#
# The walkthrough: 1. build the operator, personalize-local and personalize-ingest; 2. start the
# local control plane (kube-apiserver with embedded etcd) with the CRDs, and moto (Kinesis + S3);
# 3. fetch MovieLens 100K, convert it to Personalize CSVs, upload them to S3 and create the click
# stream; 4. start personalize-local, the operator, the ingest sidecar (Kinesis -> PutEvents) and
# the seed's HTTP gateway; 5. kubectl apply -f examples/movielens/ and show progress until
# everything is Ready, then the offline metrics; 6. GET /getRecommendations through the gateway;
# 7. POST /data clicks for movies of a genre the user has not watched, and show how the
# recommendations change. Everything listens on 127.0.0.1 only.
#
# State (pids, logs, ports, an env file to `source`) lives in ${PO_DEMO_STATE:-.cache/demo}.
# Env: PO_DEMO_USER (default 429, the seed's user), PO_DEMO_CLICKS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=hack/kube/env.sh
source hack/kube/env.sh
# The cargo target dir `make test` uses too (outside the repo), so the workspace builds once.
# shellcheck source=hack/cargo-env.sh
source hack/cargo-env.sh
state=${PO_DEMO_STATE:-$root/.cache/demo}
user=${PO_DEMO_USER:-429}
clicks=${PO_DEMO_CLICKS:-5}
stream=movielens-clicks
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*"; }
say() { printf '  %s\n' "$*"; }
cmd() { printf '  $ %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
die() {
  echo "demo.sh: $*" >&2
  [ ! -d "$state" ] || echo "demo.sh: hack/demo.sh down stops what was started (logs in $state)" >&2
  exit 1
}

# Stops one process the demo started, only if its pid still runs the expected binary.
stop_service() {
  local name=$1 marker=$2 pid
  pid=$(po_read_pid "$state/$name.pid")
  if [ -n "$pid" ] && po_pid_matches "$pid" "$marker"; then po_stop_pid "$pid" "$name" 15 || true; fi
  rm -f "$state/$name.pid"
}

down() {
  [ -d "$state" ] || { echo "demo.sh: nothing running (no $state)"; return 0; }
  stop_service gateway "personalize-ingest gateway"
  stop_service ingest "personalize-ingest run"
  stop_service operator "personalize-operator run"
  stop_service local "personalize-local"
  hack/kube/down.sh "$state/kube" >/dev/null 2>&1 || true
  hack/moto/down.sh "$state/moto" >/dev/null 2>&1 || true
  rm -rf "$state"
  echo "demo stopped: control plane, moto, personalize-local, operator, ingest sidecar and gateway"
}

# One line of progress: each object's Personalize status and Ready condition.
progress() { kubectl get personalize -o json 2>/dev/null | python3 hack/demo/progress.py || true; }

# Waits until no object of the personalize category is left, printing progress when it changes.
wait_all_gone() {
  local since deadline last="" now
  since=$(date +%s)
  deadline=$((since + $1))
  while :; do
    now=$(progress)
    [ -n "$now" ] || return 0
    [ "$now" = "$last" ] || printf '  [+%3ss] %s\n' "$(($(date +%s) - since))" "$now"
    last=$now
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

teardown() {
  [ -f "$state/env" ] || die "no demo running (no $state/env): run make demo first"
  # shellcheck source=/dev/null
  source "$state/env"
  local py
  py=$(cat "$state/python")
  step "what personalize-local holds ($AWS_ENDPOINT_URL)"
  "$py" hack/demo/inventory.py
  step "kubectl delete -f examples/movielens/  (the operator deletes in Personalize's order)"
  cmd "kubectl delete -f examples/movielens/ --wait=false"
  kubectl delete -f examples/movielens/ --wait=false | sed 's/^/  /'
  local t0
  t0=$(date +%s)
  wait_all_gone 600 || { kubectl get personalize -o wide; die "objects still present after 10 min"; }
  say "every object is gone after $(($(date +%s) - t0))s (finalizers removed only once Personalize confirmed each deletion)"
  step "what personalize-local holds now"
  "$py" hack/demo/inventory.py --expect-empty || die "resources left in personalize-local (log: $state/local.log)"
  step "stopping everything"
  local total=$(($(date +%s) - started))
  down
  echo "teardown done in ${total}s"
}

case ${1:-up} in
  up) ;;
  down) down; exit 0 ;;
  teardown) teardown; exit 0 ;;
  -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
  *) die "unknown command ${1}; usage: hack/demo.sh [up|teardown|down]" ;;
esac

if [ -d "$state" ]; then
  echo "demo.sh: a previous demo is in $state; stopping it first"
  down
fi
mkdir -p "$state"

step "1/7 building personalize-operator, personalize-local and personalize-ingest (cold: ~13 min on 2 cores)"
t0=$(date +%s)
cargo build --locked --quiet -p personalize-operator -p personalize-local -p personalize-ingest \
  --bin personalize-operator --bin personalize-local --bin personalize-ingest
bin=$CARGO_TARGET_DIR/debug
say "built in $(($(date +%s) - t0))s ($bin)"

step "2/7 starting the local control plane (the first run builds kube-apiserver: ~10 min) and moto"
hack/kube/up.sh "$state/kube" >/dev/null
hack/moto/up.sh "$state/moto" >/dev/null
moto=$(cat "$state/moto/endpoint")
# shellcheck source=/dev/null
source "$state/kube/env"
"$bin/personalize-operator" crd | kubectl apply --server-side -f - | sed 's/^/  /'
kubectl wait --for=condition=Established --timeout=60s crd/datasetgroups.personalize-operator.dev \
  crd/solutions.personalize-operator.dev crd/campaigns.personalize-operator.dev \
  crd/eventtrackers.personalize-operator.dev >/dev/null
say "kube-apiserver: $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')   moto (Kinesis + S3): $moto"

# One env file for this script, the teardown and the user's shell: kubectl for the control plane,
# moto for Kinesis and S3, personalize-local for every Personalize API.
local_port=$(po_free_port none)
gateway_port=$(po_free_port "$local_port")
ingest_port=$(po_free_port "$local_port" "$gateway_port")
operator_port=$(po_free_port "$local_port" "$gateway_port" "$ingest_port")
cat >"$state/env" <<ENV
# source this file: kubectl, the aws CLI and the SDKs then talk to the demo's services.
source '$state/kube/env'
source '$state/moto/env'
export AWS_ENDPOINT_URL='http://127.0.0.1:$local_port'
export AWS_ENDPOINT_URL_KINESIS='$moto' AWS_ENDPOINT_URL_S3='$moto'
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export GATEWAY='http://127.0.0.1:$gateway_port'
ENV
# shellcheck source=/dev/null
source "$state/env"
echo "$state/moto/venv/bin/python" >"$state/python"

step "3/7 MovieLens 100K as Personalize CSVs in S3, and the Kinesis stream for clicks"
ml=$(hack/data/movielens.sh)
data="$state/movielens"
python3 hack/data/movielens-csv.py "$ml" "$data"
aws s3 mb s3://personalize-demo >/dev/null
aws s3 cp --quiet "$data/interactions.csv" s3://personalize-demo/movielens/interactions.csv
aws s3 cp --quiet "$data/items.csv" s3://personalize-demo/movielens/items.csv
say "$(($(wc -l <"$data/interactions.csv") - 1)) interactions, $(($(wc -l <"$data/items.csv") - 1)) movies in s3://personalize-demo/movielens/"
cmd "aws kinesis create-stream --stream-name $stream --shard-count 1"
aws kinesis create-stream --stream-name "$stream" --shard-count 1
aws kinesis wait stream-exists --stream-name "$stream"

step "4/7 starting personalize-local, the operator, the ingest sidecar and the gateway"
setsid "$bin/personalize-local" --listen "127.0.0.1:$local_port" --data-dir "$state/local" \
  --transition-ms 1000 --s3-endpoint "$moto" --cloudwatch-endpoint "$moto" </dev/null >"$state/local.log" 2>&1 &
echo $! >"$state/local.pid"
deadline=$(($(date +%s) + 30))
until curl -fs "$AWS_ENDPOINT_URL/health" >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$state/local.log"; die "personalize-local did not start"; }
  sleep 0.2
done
say "personalize-local  $AWS_ENDPOINT_URL  (control plane, events and runtime on one port)"

operator_args=(run --poll-seconds 2 --http-address "127.0.0.1:$operator_port" --lease-namespace default)
echo "http://127.0.0.1:$operator_port" >"$state/operator.url"
setsid "$bin/personalize-operator" "${operator_args[@]}" </dev/null >"$state/operator.log" 2>&1 &
echo $! >"$state/operator.pid"
say "operator           personalize-operator ${operator_args[*]}"

mkdir -p "$state/ingest"
setsid "$bin/personalize-ingest" run --stream "$stream" --event-tracker default/movielens \
  --checkpoint-file "$state/ingest/checkpoints.json" --dead-letter-file "$state/ingest/dead-letter.jsonl" \
  --idle-poll-ms 100 --listen "127.0.0.1:$ingest_port" </dev/null >"$state/ingest.log" 2>&1 &
echo $! >"$state/ingest.pid"
say "ingest sidecar     personalize-ingest run --stream $stream --event-tracker default/movielens  (health http://127.0.0.1:$ingest_port)"

setsid "$bin/personalize-ingest" gateway --listen "127.0.0.1:$gateway_port" --stream "$stream" \
  </dev/null >"$state/gateway.log" 2>&1 &
echo $! >"$state/gateway.pid"
deadline=$(($(date +%s) + 30))
until curl -fs "$GATEWAY/healthz" >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$state/gateway.log"; die "the gateway did not start"; }
  sleep 0.2
done
say "gateway            $GATEWAY  (the seed's POST /data and GET /getRecommendations)"
say "logs: $state/{local,operator,ingest,gateway}.log"

step "5/7 kubectl apply -f examples/movielens/"
cmd "kubectl apply -f examples/movielens/"
kubectl apply -f examples/movielens/ | sed 's/^/  /'
applied=$(date +%s)
ready() {
  [ "$(kubectl get "$1" movielens -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
last=""
deadline=$((applied + 900))
until ready campaign && ready eventtracker; do
  now=$(progress)
  [ "$now" = "$last" ] || printf '  [+%3ss] %s\n' "$(($(date +%s) - applied))" "$now"
  last=$now
  if [ "$(date +%s)" -ge "$deadline" ]; then
    kubectl describe personalize | tail -40
    die "not Ready 15 min after apply (logs in $state)"
  fi
  sleep 1
done
ready_after=$(($(date +%s) - applied))
step "everything is Ready ${ready_after}s after kubectl apply"
cmd "kubectl get personalize"
kubectl get personalize | sed 's/^/  /'
echo
say "Offline metrics of the served version (GetSolutionMetrics, in the Solution's status):"
kubectl get solution movielens-user-personalization -o jsonpath='{.status.versions[0].metrics}' |
  python3 -c 'import json,sys; [print(f"    {k:45} {v:.4f}") for k,v in sorted(json.load(sys.stdin).items())]'
if [ -f "$state/operator.url" ]; then
  echo
  say "Operator metrics ($(cat "$state/operator.url")/metrics, excerpt):"
  curl -fs "$(cat "$state/operator.url")/metrics" | python3 hack/demo/metrics.py || true
fi

step "6/7 recommendations through the gateway (the seed's GET /getRecommendations)"
campaign_arn=$(kubectl get campaign movielens -o jsonpath='{.status.arn}')
url="$GATEWAY/getRecommendations?campaignArn=$campaign_arn&userId=$user&numResults=10"
cmd "curl -s \"\$GATEWAY/getRecommendations?campaignArn=$campaign_arn&userId=$user&numResults=10\""
curl -fsS "$url" >"$state/before.json"
cut -c1-150 "$state/before.json" | sed 's/^/  /; s/$/ .../'
curl -fsS "$url" >"$state/before-again.json"
python3 hack/demo/movies.py ids <"$state/before.json" >"$state/before.ids"
python3 hack/demo/movies.py ids <"$state/before-again.json" >"$state/before-again.ids"
cmp -s "$state/before.ids" "$state/before-again.ids" ||
  say "(note: two identical requests disagree, so the comparison below is approximate)"
echo
say "Recommended for user $user, with titles and genres (hack/demo/movies.py):"
python3 hack/demo/movies.py show "$data" <"$state/before.json"

step "7/7 live clicks through the gateway (the seed's POST /data -> Kinesis -> sidecar -> PutEvents)"
deadline=$(($(date +%s) + 60))
until curl -fs "http://127.0.0.1:$ingest_port/readyz" >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$state/ingest.log"; die "the ingest sidecar is not ready"; }
  sleep 0.5
done
mapfile -t picked < <(python3 hack/demo/movies.py pick "$data" --user "$user" --count "$clicks" \
  --exclude "$state/before.json" 2>"$state/pick.txt")
genre=${picked[0]}
say "$(cat "$state/pick.txt"); now they click $((${#picked[@]} - 1)) popular $genre movies"
say "(the seed's POST /data body as it is; the Solution trains on clicks and watches):"
clicked_at=$(now_ms)
for line in "${picked[@]:1}"; do
  item=${line%%$'\t'*}
  body=$(printf '{"stream-name": "%s", "Data": {"userId": "%s", "interactions": 1, "itemId": "%s", "trackingId": "...", "eventType": "click", "sentAt": "%s"}, "PartitionKey": "userId"}' \
    "$stream" "$user" "$item" "$(date +%s)")
  echo
  cmd "curl -s -X POST \"\$GATEWAY/data\" -H 'Content-Type: application/json' -d '$body'   # ${line#*$'\t'}"
  curl -fsS -X POST "$GATEWAY/data" -H 'Content-Type: application/json' -d "$body" | sed 's/^/  /'
  echo
done
echo
say "Waiting for the recommendations to change (polling GET /getRecommendations, at most 60 s) ..."
changed=""
deadline=$((clicked_at + 60000))
while [ "$(now_ms)" -lt "$deadline" ]; do
  curl -fsS "$url" >"$state/after.json"
  if ! python3 hack/demo/movies.py ids <"$state/after.json" | cmp -s - "$state/before.ids"; then
    changed=$(($(now_ms) - clicked_at))
    break
  fi
  sleep 0.2
done
[ -n "$changed" ] || { tail -20 "$state/ingest.log"; die "recommendations did not change within 60 s of the clicks"; }
# The first change may reflect only the first clicks: wait until the sidecar has delivered them all.
sent() { curl -fs "http://127.0.0.1:$ingest_port/metrics" | awk '/^personalize_ingest_events_sent_total /{print $2}'; }
want=$((${#picked[@]} - 1))
until [ "$(sent)" -ge "$want" ] 2>/dev/null; do
  [ "$(now_ms)" -lt "$deadline" ] || die "the sidecar sent $(sent) of $want events within 60 s (log: $state/ingest.log)"
  sleep 0.1
done
delivered=$(($(now_ms) - clicked_at))
curl -fsS "$url" >"$state/after.json"
say "changed ${changed} ms after the first click; all $want events delivered by the sidecar (PutEvents) after ${delivered} ms; no retraining"
echo
say "Recommended for user $user now (+ = new):"
python3 hack/demo/movies.py show "$data" --before "$state/before.json" --genre "$genre" <"$state/after.json"

total=$(($(date +%s) - started))
state_rel=${state#"$root/"}
cat <<MSG

==> Done in ${total}s (Ready ${ready_after}s after apply; recommendations changed ${changed} ms after the first click).
Everything is still running. To explore, in another shell at $root:
  source $state_rel/env
  kubectl get personalize -o wide            # the four kinds, with their ARNs
  kubectl describe campaign movielens        # a Kubernetes Event for every AWS call
  kubectl get solution movielens-user-personalization -o yaml   # versions and their metrics
  curl -s "\$GATEWAY/getRecommendations?campaign=movielens&userId=$user&numResults=5"
  curl -s -X POST "\$GATEWAY/data" -H 'Content-Type: application/json' \\
    -d '{"stream-name": "$stream", "Data": {"userId": "$user", "interactions": 1, "itemId": "185", "trackingId": "...", "eventType": "click", "sentAt": "1698711110"}, "PartitionKey": "userId"}'
  aws personalize list-campaigns             # personalize-local answers the AWS CLI
  tail -f $state_rel/operator.log            # also local.log, ingest.log, gateway.log
When done:
  hack/demo.sh teardown    # kubectl delete -f examples/movielens/, show personalize-local is empty, stop all
  hack/demo.sh down        # stop all without deleting
MSG
