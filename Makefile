# The project's entry points. `make demo` and `make test` are the two commands in the README.
.PHONY: demo test crds fmt lint

## demo: run the main job end to end on the embedded default
demo:
	@hack/demo.sh

## test: run every test (installs or builds what the tests need)
test:
	@hack/test.sh

## crds: regenerate crds/ from the Rust types (a test fails when they drift)
crds:
	cargo run --quiet --bin personalize-operator -- crd --out-dir crds

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

-include hack/make/*.mk
