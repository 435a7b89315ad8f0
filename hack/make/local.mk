# personalize-local: the local Personalize-compatible server (crates/local).
.PHONY: local local-test local-bench

## local: run personalize-local on 127.0.0.1:8089 with data under .personalize-local/
local:
	cargo run -p personalize-local -- --listen 127.0.0.1:8089 --data-dir .personalize-local

## local-test: unit + conformance tests (Rust SDKs, boto3 via hack/python/venv.sh, SIGKILL restart)
local-test:
	cargo test -p personalize-local

## local-bench: PutEvents throughput (10 events per call, fsync on)
local-bench:
	cargo test --release -p personalize-local --test conformance bench -- --ignored --nocapture

## bench-local: GetRecommendations vs a trivial axum handler (throughput ratio, p99) on a
## MovieLens 100K campaign, then RSS with the model + 1M PutEvents events and restart time vs a
## model-only and an empty data dir (release build; figures are ratios to baselines run back to
## back in the same run). Flags: crates/local/examples/bench_*.rs
.PHONY: bench-local
bench-local:
	@set -e; \
	dir=$$(hack/data/movielens.sh); \
	cargo build --release --quiet -p personalize-local --bin personalize-local; \
	cargo run --release --quiet -p personalize-local --example bench_recommendations -- --data "$$dir"; \
	cargo run --release --quiet -p personalize-local --example bench_memory -- --data "$$dir"

## bench-batch: batch inference users/s vs the engine's in-process top-k rate for the same model
## (MovieLens 100K end to end through a batch job, and a 1M-user synthetic set through the job's
## line pipeline), and peak RSS. personalize-local is built at opt-level 2 (the engine and the
## dependencies already are). Flags: crates/local/examples/bench_batch.rs
.PHONY: bench-batch
bench-batch:
	@set -e; \
	dir=$$(hack/data/movielens.sh); \
	cargo run --quiet --config 'profile.dev.package.personalize-local.opt-level=2' \
	  -p personalize-local --example bench_batch -- --data "$$dir"
