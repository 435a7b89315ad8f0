# Ingest targets (included from the root Makefile): personalize-ingest tests and benchmarks.
#   make test-ingest    unit + integration tests (moto, personalize-local, kube-apiserver)
#   make bench-ingest   throughput ratio vs GetRecords alone, and POST /data -> recommendation freshness

.PHONY: test-ingest bench-ingest

test-ingest:
	cargo test -p personalize-ingest

bench-ingest:
	cargo test -p personalize-ingest --test ingest -- --ignored --nocapture --test-threads 1 bench_
