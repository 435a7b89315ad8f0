#!/usr/bin/env bash
# The main job end to end on the embedded default: `make demo` runs this.
#
# Today: builds the operator, starts the local control plane (kube-apiserver with embedded etcd
# on 127.0.0.1), installs the CRDs, applies the MovieLens example and shows
# `kubectl get personalize`. It grows into the full seed walkthrough (personalize-local, moto,
# the operator and the ingest sidecar) as those land.
#
# The control plane keeps running afterwards (state in .cache/kube); stop it with
# `hack/kube/down.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

step "building personalize-operator"
cargo build --quiet --bin personalize-operator
step "starting the local control plane (first run builds kube-apiserver: ~10 min)"
state=$(hack/kube/up.sh)
# shellcheck source=/dev/null
source "$state/env"
step "installing the CRDs"
target/debug/personalize-operator crd | kubectl apply --server-side -f - >/dev/null
kubectl wait --for=condition=Established --timeout=60s \
  crd/datasetgroups.personalize-operator.dev crd/solutions.personalize-operator.dev \
  crd/campaigns.personalize-operator.dev crd/eventtrackers.personalize-operator.dev >/dev/null
step "applying examples/movielens"
kubectl apply -f examples/movielens/
step "kubectl get personalize"
kubectl get personalize
cat <<MSG

Done in $(( $(date +%s) - started ))s. The control plane is still running:
  source $state/env        # KUBECONFIG and kubectl for this shell
  kubectl explain campaign.spec
  kubectl get campaigns
  hack/kube/down.sh        # stop it
MSG
