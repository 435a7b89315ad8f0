# Ingest targets (included from the root Makefile): personalize-ingest tests and benchmarks.
#   make test-ingest    unit + integration tests (moto, personalize-local, kube-apiserver)
#   make bench-ingest   throughput ratio vs GetRecords alone, and POST /data -> recommendation freshness
#   make bench-split    gateway GetRecommendations p50/p99 with a rollout's split against without
#
# The benchmarks build personalize-ingest itself with optimisations (dependencies already are, see
# [profile.dev.package."*"]): at opt-level 0 the sidecar spends about twice the CPU per event and
# the figures measure the debug build, not the sidecar. Switching between the two rebuilds only
# this crate. INGEST_BENCH_REPS (5), INGEST_BENCH_EVENTS (20000), INGEST_BENCH_WINDOW_RECORDS,
# INGEST_BENCH_READ_AHEAD and INGEST_BENCH_BATCH_LIMIT tune the throughput benchmark;
# SPLIT_BENCH_ROUNDS (6) and SPLIT_BENCH_REQUESTS (500) the split benchmark (SPLIT_BENCH_CANDIDATE=stable:
# the gateway's own cost, the rollout naming the stable campaign as its candidate).

.PHONY: test-ingest bench-ingest bench-split

INGEST_BENCH_CARGO_FLAGS ?= --config 'profile.dev.package.personalize-ingest.opt-level=2'

test-ingest:
	cargo test -p personalize-ingest

bench-ingest:
	cargo test $(INGEST_BENCH_CARGO_FLAGS) -p personalize-ingest --test ingest -- --ignored --nocapture --test-threads 1 bench_

bench-split:
	cargo test $(INGEST_BENCH_CARGO_FLAGS) -p personalize-ingest --test ingest -- --ignored --nocapture --exact ingest::split::split_latency
