#!/usr/bin/env bash
# Copies the generated CRDs (crds/*.yaml, from `personalize-operator crd`) into the chart's crds/
# directory, which Helm installs before the templates. Copies, not symlinks: a chart pulled from
# git by Argo CD, packaged by `helm package` or vendored elsewhere must stand alone.
# Usage: hack/helm/sync-crds.sh           copy (run after `make crds`)
#        hack/helm/sync-crds.sh --check   exit 1 if the chart's copies differ from crds/
set -euo pipefail
cd "$(dirname "$0")/../.."
src=crds
dst=charts/personalize-operator/crds
if [ "${1:-}" = --check ]; then
  if ! diff -r "$src" "$dst" >/dev/null 2>&1; then
    diff -r "$src" "$dst" | head -20 >&2 || true
    echo "sync-crds.sh: $dst differs from $src: run hack/helm/sync-crds.sh" >&2
    exit 1
  fi
  echo "sync-crds.sh: $dst matches $src ($(find "$src" -name "*.yaml" | wc -l) CRDs)"
  exit 0
fi
mkdir -p "$dst"
rm -f "$dst"/*.yaml
cp "$src"/*.yaml "$dst"/
echo "sync-crds.sh: copied $(find "$src" -name "*.yaml" | wc -l) CRDs to $dst"
