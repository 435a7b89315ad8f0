#!/usr/bin/env bash
# Downloads MovieLens 100K (from the PyPI wheel recbole==1.2.1, which ships it) into a cache
# directory outside the repository and prints that directory. Idempotent: a complete cache is
# reused. The MovieLens license forbids redistribution: never commit the data.
set -euo pipefail
cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
dest="$cache_root/movielens"
files=(ml-100k.inter ml-100k.item ml-100k.user)
complete() { for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done; }
if ! complete; then
  mkdir -p "$dest"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "movielens.sh: downloading recbole==1.2.1 wheel ..." >&2
  python3 -m pip download --quiet --disable-pip-version-check --no-deps recbole==1.2.1 -d "$tmp" >&2
  wheel=$(ls "$tmp"/recbole-1.2.1-*.whl)
  python3 - "$wheel" "$tmp/out" "${files[@]}" <<'PY'
import sys, zipfile, os
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with z.open(f"recbole/dataset_example/ml-100k/{n}") as src, open(os.path.join(out, n), "wb") as dst:
            dst.write(src.read())
PY
  for f in "${files[@]}"; do mv "$tmp/out/$f" "$dest/$f"; done
fi
echo "$dest"
