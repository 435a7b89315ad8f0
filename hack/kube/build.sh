#!/usr/bin/env bash
# Builds kube-apiserver (with etcd embedded in the same binary) and kubectl from the Go module
# proxy, and caches them outside the repository. Prints the directory holding the binaries.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod requires its staging modules at v0.0.0
# and maps them with replace directives that only apply inside that module. So we build a tiny
# wrapper module (hack/kube/wrapper) that requires k8s.io/kubernetes and replaces every staging
# module it requires at v0.0.0 with the published v0.<minor>.<patch> tag. The list is generated
# from the real go.mod, never hand-copied.
#
# Rebuilds only when the pin or the wrapper's main.go changes (the cache key includes both).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.35.4}
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$here/wrapper/main.go" "$0" | sha256sum | cut -c1-12)
cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
out="$cache_root/kube/v$K8S_VERSION-$key"

if [ -x "$out/kube-apiserver" ] && [ -x "$out/kubectl" ]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: go is required to build kube-apiserver" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

staging="v0.${K8S_VERSION#1.}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

# 1. k/k's own go.mod, read outside any module so its v0.0.0 requires are not resolved.
gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" \
  | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
[ -f "$gomod" ] || { echo "build.sh: could not download k8s.io/kubernetes@v$K8S_VERSION" >&2; exit 1; }

# 2. The wrapper module.
mkdir -p "$work/mod"
cp "$here/wrapper/main.go" "$work/mod/main.go"
cd "$work/mod"
go mod init personalize-operator.dev/kubebin >/dev/null 2>&1
go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
for m in $(sed -n 's/^\t\(k8s\.io\/[A-Za-z0-9._-]*\) v0\.0\.0$/\1/p' "$gomod"); do
  go mod edit -replace="$m=$m@$staging"
done
go_line=$(sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' "$gomod")
go mod edit -godebug="default=go$go_line"
echo "build.sh: resolving modules for k8s $K8S_VERSION ..." >&2
go mod tidy >&2

minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"

mkdir -p "$out.tmp"
echo "build.sh: building kube-apiserver (+ embedded etcd) and kubectl; a cold build takes 10-25 min ..." >&2
go build -trimpath -pgo=off -ldflags "$ldflags" -o "$out.tmp/kube-apiserver" . >&2
go build -trimpath -pgo=off -ldflags "$ldflags" -o "$out.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl >&2
rm -rf "$out" && mv "$out.tmp" "$out"
echo "build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
