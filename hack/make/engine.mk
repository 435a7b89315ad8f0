# Engine targets (included from the root Makefile): MovieLens data and the quality benchmark.
#   make data           download MovieLens 100K into $PO_CACHE_DIR/movielens (outside the repo)
#   make bench-quality  engine recipes vs numpy EASE and implicit iALS (table + JSON)
#   make bench-cold     new items served from their metadata: 10% of items held out of training,
#                       live events on them, hit rate vs a genre-match baseline; split A NDCG@10
#                       with and without (table + JSON)

.PHONY: data bench-quality bench-cold

data:
	@hack/data/movielens.sh

bench-quality:
	@set -e; \
	dir=$$(hack/data/movielens.sh); \
	venv=$$(hack/bench/python-venv.sh); \
	cargo run --release --quiet -p personalize-engine --example bench_quality -- \
	  --data "$$dir" --python "$$venv/bin/python" --baselines hack/bench/baselines.py

bench-cold:
	@set -e; \
	dir=$$(hack/data/movielens.sh); \
	cargo run --release --quiet -p personalize-engine --example bench_cold -- --data "$$dir"
