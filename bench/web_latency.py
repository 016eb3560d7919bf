"""Query latency and search page render time at demo size, in process.

    python bench/web_latency.py [--queries 200]

Loads the demo into a temporary data dir with the default embedder, then
times, for queries from ../shared/eval (Japanese and English, the
cross-language sets' included): the search itself (``Searcher.search``: both
legs, the translated leg, fusion, snippets; what the issue targets call query
latency), and the server's time for GET /?q=… (the page around it).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from ingest.pipeline import ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase
from web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    queries = []
    for name in ("ja_localgovfaq", "en_stackfaq", "ja_llis_title2lesson_xl", "en_localgovfaq_xl"):
        with (args.eval_dir / name / "queries.jsonl").open(encoding="utf-8") as f:
            queries += [json.loads(line)["text"] for line in f]
    random.Random(1).shuffle(queries)
    queries = queries[: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), anonymous_role="reader")  # timed without a login (see bench/auth.py)
        kb = KnowledgeBase.open(settings)
        ingest_paths(
            kb.store,
            [Path(str(files("ingest") / "demo_kb"))],
            registry=default_registry(),
            max_file_bytes=settings.max_file_bytes,
        )
        kb.catch_up()
        chunks = kb.store.counts()["chunks"]
        for q in queries[:20]:
            kb.searcher.search(q)
        searches = [kb.searcher.search(q).took_ms for q in queries]
        with TestClient(create_app(settings, embedder=kb.embedder)) as client:
            for q in queries[:20]:
                client.get("/", params={"q": q})
            times = []
            for q in queries:
                started = time.perf_counter()
                assert client.get("/", params={"q": q}).status_code == 200
                times.append((time.perf_counter() - started) * 1000)
        kb.close()
    print(
        f"demo ({chunks} chunks), {len(times)} queries: query p50 {np.percentile(searches, 50):.1f} ms, "
        f"p99 {np.percentile(searches, 99):.1f} ms; search page p50 {np.percentile(times, 50):.1f} ms, "
        f"p99 {np.percentile(times, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
