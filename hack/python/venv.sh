#!/usr/bin/env bash
# Creates (once) a Python venv outside the repository with the project's Python tools, and prints
# its path. Usage: hack/python/venv.sh [requirements-file ...]  (default: requirements.txt).
# The venv is keyed by the requirement files' content, so a change makes a new one. Concurrent
# callers are serialised with a lock, so parallel tests never build the same venv twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here/requirements.txt"
key=$(cat "$@" | sha256sum | cut -c1-12)
cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
venv="$cache_root/venv-$key"
mkdir -p "$cache_root"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  echo "venv.sh: creating $venv ..." >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check $(printf -- '-r %s ' "$@") >&2
  touch "$venv/.complete"
fi
echo "$venv"
