#!/usr/bin/env bash
# Runs the Argo CD health-check tests (hack/argocd/test.py) in the packaging venv.
# Usage: hack/argocd/test.sh [--write]   (--write regenerates charts/personalize-operator/argocd/argocd-cm.yaml)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=$(hack/python/venv.sh hack/helm/requirements.txt)
exec "$venv/bin/python" hack/argocd/test.py "$@"
