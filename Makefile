# The project's entry points. `make demo` and `make test` are the two commands in the README.
.PHONY: demo demo-teardown test test-packaging crds docs fmt lint

# One cargo target dir, outside the repository, for every target here and for hack/*.sh (same
# default as hack/cargo-env.sh): `make demo` and `make test` build the workspace once.
PO_CACHE_DIR ?= $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/personalize-operator
export CARGO_TARGET_DIR ?= $(PO_CACHE_DIR)/target

## demo: run the main job end to end on the embedded default
demo:
	@hack/demo.sh

## demo-teardown: delete the demo's objects, show personalize-local is empty, stop everything
demo-teardown:
	@hack/demo.sh teardown

## test: run every test (installs or builds what the tests need)
test:
	@hack/test.sh

## test-packaging: Helm chart, Argo CD health checks, IAM policies, Dockerfile, sidecar example
test-packaging:
	@hack/helm/test.sh

## crds: regenerate crds/ from the Rust types (a test fails when they drift)
crds:
	cargo run --quiet --bin personalize-operator -- crd --out-dir crds
	hack/helm/sync-crds.sh
	python3 hack/docs/crd-reference.py

## docs: regenerate docs/crd-reference.md from crds/ (a test fails when it is stale)
docs:
	python3 hack/docs/crd-reference.py

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

-include hack/make/*.mk
