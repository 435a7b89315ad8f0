#!/usr/bin/env bash
# Builds (once) the pinned helm CLI from the Go module proxy and caches it outside the repository;
# prints the path of the binary. The cache key is the pin plus this script, so either change
# builds anew. Usage: hack/helm/helm.sh   (env: HELM_VERSION, PO_CACHE_DIR)
#
# The version variables helm's own Makefile sets with -ldflags are set here too: without them
# `helm version` says v3 and, worse, `helm template`/`lint` assume Kubernetes v1.20 and refuse the
# chart's kubeVersion. The Kubernetes minor is read from helm's go.mod (its client-go), as helm does.
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.21.4}
cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
key=$(sha256sum "$0" | cut -c1-8)
out="$cache_root/helm/$HELM_VERSION-$key"
if [ -x "$out/helm" ]; then
  echo "$out/helm"
  exit 0
fi
command -v go >/dev/null || { echo "helm.sh: go is required to build helm $HELM_VERSION" >&2; exit 1; }
mkdir -p "$cache_root/helm"
exec 9>"$cache_root/helm/.build.lock"
flock -w 1800 9 || { echo "helm.sh: timed out waiting for the build lock" >&2; exit 1; }
if [ ! -x "$out/helm" ]; then
  echo "helm.sh: building helm $HELM_VERSION from the Go module proxy (a few minutes, once) ..." >&2
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  gomod=$(cd /tmp && go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  k8s_minor=$(sed -n 's/^\tk8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)
  [ -n "$k8s_minor" ] || { echo "helm.sh: no k8s.io/client-go in $gomod" >&2; exit 1; }
  tmp="$out.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  rm -rf "$out" && mv "$tmp" "$out"
fi
echo "$out/helm"
