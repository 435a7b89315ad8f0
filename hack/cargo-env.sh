#!/usr/bin/env bash
# One cargo target dir for `make demo`, `make test` and the hack/ scripts, outside the repository:
# ${CARGO_TARGET_DIR:-${PO_CACHE_DIR:-~/.cache/personalize-operator}/target}. The demo and the
# tests both build the dev profile, so a fresh clone builds the workspace once, not once per
# command, and every clone of the repository on a machine reuses it. Source it; it starts nothing.
po_cache_root=${PO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/personalize-operator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$po_cache_root/target}
