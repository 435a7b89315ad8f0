# Engine targets (included from the root Makefile): MovieLens data and the quality benchmark.
#   make data           download MovieLens 100K into $PO_CACHE_DIR/movielens (outside the repo)
#   make bench-quality  engine recipes vs numpy EASE and implicit iALS (table + JSON)

.PHONY: data bench-quality

data:
	@hack/data/movielens.sh

bench-quality:
	@set -e; \
	dir=$$(hack/data/movielens.sh); \
	venv=$$(hack/bench/python-venv.sh); \
	cargo run --release --quiet -p personalize-engine --example bench_quality -- \
	  --data "$$dir" --python "$$venv/bin/python" --baselines hack/bench/baselines.py
