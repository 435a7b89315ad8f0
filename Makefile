# The project's entry points. `make demo` and `make test` are the two commands in the README.
.PHONY: demo demo-teardown test test-packaging crds docs fmt lint

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
