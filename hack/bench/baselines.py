"""Baselines for `make bench-quality`: popularity, numpy/scipy EASE and `implicit` iALS on
MovieLens 100K, with the protocols and metric definitions of shared/BENCHMARKS.md (Split A
temporal-10, Split B 10-fold Personalize-style, replay HR@10). Prints one JSON object on stdout.

Usage: python baselines.py DATA_DIR
"""
import json
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import warnings

import implicit

warnings.filterwarnings("ignore", message="OpenBLAS is configured")


def load(data_dir):
    rows = []
    with open(os.path.join(data_dir, "ml-100k.inter")) as f:
        next(f)
        for line in f:
            u, i, _r, t = line.rstrip("\n").split("\t")
            rows.append((int(u), int(i), int(float(t))))
    by_user = {}
    for u, i, t in rows:
        by_user.setdefault(u, []).append((t, i))
    for u in by_user:
        by_user[u].sort()
    return by_user


def tail_split(seq, frac=0.1):
    k = math.ceil(len(seq) * frac)
    return seq[: len(seq) - k], seq[len(seq) - k:]


# Metrics (BENCHMARKS.md): gain 1/log2(rank+1), ideal DCG over min(|test|, K).
def ndcg(ranked, rel, k):
    idcg = sum(1.0 / math.log2(p + 2) for p in range(min(len(rel), k)))
    if idcg == 0:
        return 0.0
    return sum(1.0 / math.log2(p + 2) for p, i in enumerate(ranked[:k]) if i in rel) / idcg


def recall(ranked, rel, k):
    d = min(len(rel), k)
    return sum(1 for i in ranked[:k] if i in rel) / d if d else 0.0


def mrr(ranked, rel, k):
    for p, i in enumerate(ranked[:k]):
        if i in rel:
            return 1.0 / (p + 1)
    return 0.0


def summarize(lists, targets):
    n = len(targets)
    return {
        "ndcg_at_10": sum(ndcg(l, t, 10) for l, t in zip(lists, targets)) / n,
        "recall_at_10": sum(recall(l, t, 10) for l, t in zip(lists, targets)) / n,
        "precision_at_10": sum(len(set(l[:10]) & t) / 10 for l, t in zip(lists, targets)) / n,
        "mrr_at_25": sum(mrr(l, t, 25) for l, t in zip(lists, targets)) / n,
        "users": n,
    }


class Index:
    def __init__(self, by_user):
        items = sorted({i for seq in by_user.values() for _, i in seq})
        self.items = items
        self.pos = {i: k for k, i in enumerate(items)}

    def matrix(self, seqs):
        """CSR rows for a list of item-id lists."""
        indptr, indices = [0], []
        for seq in seqs:
            cols = sorted({self.pos[i] for i in seq})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(seqs), len(self.items)))


def top(scores, exclude, k):
    scores = scores.copy()
    scores[list(exclude)] = -np.inf
    idx = np.argpartition(-scores, k)[:k]
    return list(idx[np.argsort(-scores[idx], kind="stable")])


class Popularity:
    name = "popularity"

    def grid(self):
        return [{}]

    def fit(self, x, params):
        self.pop = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)

    def scores(self, hist_rows):
        return np.tile(self.pop, (hist_rows.shape[0], 1))


class Ease:
    name = "ease_numpy"

    def grid(self):
        return [{"lambda": l} for l in (50.0, 100.0, 200.0, 400.0)]

    def fit(self, x, params):
        g = (x.T @ x).toarray().astype(np.float64)
        g[np.diag_indices_from(g)] += params["lambda"]
        p = np.linalg.inv(g)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        self.b = b

    def scores(self, hist_rows):
        return np.asarray(hist_rows @ self.b)


class Ials:
    name = "ials_implicit"

    def grid(self):
        return [
            {"factors": f, "regularization": r, "alpha": a, "iterations": 15}
            for f in (32, 64)
            for r in (1.0, 10.0)
            for a in (1.0,)
        ]

    def fit(self, x, params):
        self.model = implicit.cpu.als.AlternatingLeastSquares(
            factors=params["factors"],
            regularization=params["regularization"],
            alpha=params["alpha"],
            iterations=params["iterations"],
            random_state=42,
            calculate_training_loss=False,
        )
        with threadpool_limits(1, "blas"):
            self.model.fit(x, show_progress=False)

    def scores(self, hist_rows):
        # Fold each history in (implicit's recalculate_user), then score every item.
        ids = np.arange(hist_rows.shape[0])
        with threadpool_limits(1, "blas"):
            users = self.model.recalculate_user(ids, hist_rows)
        return np.asarray(users @ self.model.item_factors.T)


def rank_all(model, idx, histories, k=25):
    x = idx.matrix(histories)
    s = model.scores(x)
    out = []
    for r, hist in enumerate(histories):
        ex = {idx.pos[i] for i in hist}
        out.append([idx.items[j] for j in top(np.asarray(s[r]).ravel(), ex, k)])
    return out


def tune(model, idx, train_seqs):
    """Grid search on the same rule inside train: each user's newest ceil(10%) is validation."""
    fit_in, hist, targets = [], [], []
    for seq in train_seqs:
        if len(seq) >= 3:
            a, b = tail_split(seq)
            fit_in.append([i for _, i in a])
            hist.append([i for _, i in a])
            targets.append({i for _, i in b})
        else:
            fit_in.append([i for _, i in seq])
    x = idx.matrix(fit_in)
    best = None
    for params in model.grid():
        model.fit(x, params)
        s = summarize(rank_all(model, idx, hist), targets)["ndcg_at_10"]
        if best is None or s > best[0]:
            best = (s, params)
    return best[1]


def split_a(model, idx, by_user):
    users = sorted(by_user)
    train, tests = [], []
    for u in users:
        a, b = tail_split(by_user[u])
        train.append(a)
        tests.append(b)
    params = tune(model, idx, train)
    x = idx.matrix([[i for _, i in s] for s in train])
    t0 = time.perf_counter()
    model.fit(x, params)
    fit_s = time.perf_counter() - t0
    fit_times = [fit_s]
    for _ in range(2):
        t0 = time.perf_counter()
        model.fit(x, params)
        fit_times.append(time.perf_counter() - t0)
    hist = [[i for _, i in s] for s in train]
    lists = rank_all(model, idx, hist)
    res = summarize(lists, [{i for _, i in b} for b in tests])
    res["params"] = params
    res["fit_seconds"] = sorted(fit_times)[1]
    # Replay: before each test event, top-10 on the history so far, then apply the event.
    # Batched by step: every user's k-th test event is ranked in one call.
    hits, rr, n = 0, 0.0, 0
    for k in range(max(len(b) for b in tests)):
        rows = [(h + [i for _, i in b[:k]], b[k][1]) for h, b in zip(hist, tests) if len(b) > k]
        ranked = rank_all(model, idx, [r[0] for r in rows], k=10)
        for lst, (_, target) in zip(ranked, rows):
            n += 1
            if target in lst:
                hits += 1
                rr += 1.0 / (lst.index(target) + 1)
    res["replay_hr_at_10"] = hits / n
    res["replay_mrr_at_10"] = rr / n
    return res


def split_b(model, idx, by_user, params):
    folds = []
    for k in range(10):
        train, hist, targets = [], [], []
        for u in sorted(by_user):
            seq = by_user[u]
            if u % 10 == k:
                a, b = tail_split(seq)
                hist.append([i for _, i in a])
                targets.append({i for _, i in b})
            else:
                train.append([i for _, i in seq])
        model.fit(idx.matrix(train), params)
        folds.append(summarize(rank_all(model, idx, hist), targets))
    return {key: sum(f[key] for f in folds) / len(folds) for key in ("ndcg_at_10", "recall_at_10", "precision_at_10", "mrr_at_25")}


def main():
    data_dir = sys.argv[1]
    by_user = load(data_dir)
    idx = Index(by_user)
    out = {"implicit_version": implicit.__version__, "numpy_version": np.__version__}
    for model in (Popularity(), Ease(), Ials()):
        t0 = time.perf_counter()
        a = split_a(model, idx, by_user)
        b = split_b(model, idx, by_user, a["params"])
        out[model.name] = {"split_a": a, "split_b": b, "wall_seconds": time.perf_counter() - t0}
        print(f"baselines.py: {model.name} done", file=sys.stderr)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
