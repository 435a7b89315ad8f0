# Operator targets (included from the root Makefile).
.PHONY: bench-operator

## bench-operator: 200 sets of the four kinds created at once against an instant personalize-local:
## time to all Ready, operator peak RSS, Personalize calls per object to converge and per hour idle
## (PO_BENCH_SETS=N to change the count)
bench-operator:
	cargo test --test cluster -- --ignored --nocapture bench_sets
