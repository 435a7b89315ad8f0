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
	cargo test -p personalize-local --test conformance bench -- --ignored --nocapture
