#!/usr/bin/env bash
# Every test of the project, on a fresh machine or a warm one: `make test` runs this.
#
# Installs or builds what the tests need (kube-apiserver + kubectl from the Go module proxy, the
# Python venv with moto and boto3), then checks formatting and lints, runs every Rust test (unit,
# conformance against personalize-local, integration against the real apiserver) and the
# Python-SDK walkthroughs. Expensive builds are cached outside the repository
# (${PO_CACHE_DIR:-~/.cache/personalize-operator}), including cargo's target dir unless
# CARGO_TARGET_DIR is set (hack/cargo-env.sh: the same one `make demo` builds into), so a warm run
# in a fresh clone is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=hack/cargo-env.sh
source hack/cargo-env.sh
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

step "tools: kube-apiserver and kubectl (cached build)"
PO_KUBE_BIN_DIR=$(hack/kube/build.sh)
export PO_KUBE_BIN_DIR
step "tools: Python venv (moto, boto3, awscli)"
venv=$(hack/python/venv.sh)
export PO_PYTHON="$venv/bin/python"

step "docs/crd-reference.md matches crds/ (fix: make docs)"
"$PO_PYTHON" hack/docs/crd-reference.py --check

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit; SDK, boto3 and CLI conformance against personalize-local; real apiserver)"
# Every response personalize-local gives in these tests (SDK, boto3, the operator's) is recorded...
record=$(mktemp -t personalize-local-record.XXXXXX.jsonl)
PERSONALIZE_LOCAL_RECORD="$record" cargo test --workspace --locked --no-fail-fast
step "personalize-local responses against the official models (botocore in the venv): zero violations"
# ...and checked against the official models here.
"$PO_PYTHON" crates/local/tests/check_responses.py "$record" --min 1000
rm -f "$record"

step "packaging: Helm chart on the apiserver with the operator binary, Argo CD health Lua, IAM policies, Dockerfile, sidecar example"
hack/helm/test.sh

step "all tests passed in $(( $(date +%s) - started ))s"
