#!/usr/bin/env bash
# Prints the path of the benchmark venv (hack/python/venv.sh with the base and bench
# requirements). The pinned numpy/scipy need Python >= 3.12: when `python3` is older, the newest
# python3.1x found on PATH is put first for venv.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
if ! ok python3; then
  cands=(python3.14 python3.13 python3.12)
  if command -v pyenv >/dev/null 2>&1; then
    # pyenv shims refuse versions that are not selected: use the interpreters themselves.
    cands+=($(ls -d "$(pyenv root)"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV))
  fi
  for cand in "${cands[@]}"; do
    if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then
      shim=$(mktemp -d)
      trap 'rm -rf "$shim"' EXIT
      ln -s "$(command -v "$cand")" "$shim/python3"
      export PATH="$shim:$PATH"
      break
    fi
  done
fi
ok python3 || { echo "python-venv.sh: need Python >= 3.12 for the bench requirements" >&2; exit 1; }
"$top/hack/python/venv.sh" "$top/hack/python/requirements.txt" "$top/hack/python/requirements-bench.txt"
