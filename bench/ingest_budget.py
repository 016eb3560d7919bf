"""Benchmark: what the per-file budget (parsing in a worker process) costs.

    python bench/ingest_budget.py [--files 1000]

Parses the same generated Markdown files as ``bench/ingest_files.py`` twice
each, in this process and in the worker, alternating file by file so a busy
machine slows both alike. Prints the one-off start (fork server and first
worker), a replacement worker's start (after a file is stopped) and the
per-file parse time both ways; the difference is the budget's cost per file.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from ingest_files import make_file

from ingest.budget import IN_PROCESS, Budgeted, FileBudget, Parser
from ingest.options import DEFAULT_OPTIONS
from ingest.registry import default_registry
from kb.config import Settings


def timed(parser: Parser, path: Path, data: bytes) -> float:
    ingester = default_registry().for_path(path)
    assert ingester is not None
    start = time.perf_counter()
    parser.parse(ingester, path, data, source=str(path), options=DEFAULT_OPTIONS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(42)
    files = [make_file(i, rng) for i in range(args.files)]
    samples = [(Path("/corpus") / rel, text.encode("utf-8")) for rel, text in files]
    with Budgeted(FileBudget.from_settings(Settings())) as worker:
        first = timed(worker, *samples[0])
        worker.close()  # as after a stopped file: the next parse starts a fresh worker
        restart = timed(worker, *samples[0])
        here, there = [], []
        for path, data in samples:
            here.append(timed(IN_PROCESS, path, data))
            there.append(timed(worker, path, data))
    print(f"first parse, fork server and worker starting: {first:.2f} s; a replacement worker: {restart:.3f} s")
    for label, times in (("in process", here), ("in the worker", there)):
        print(
            f"{label}: {sum(times):.2f} s for {len(times)} files, "
            f"median {statistics.median(times) * 1000:.2f} ms, mean {statistics.mean(times) * 1000:.2f} ms"
        )
    extra = [b - a for a, b in zip(here, there, strict=True)]
    print(
        f"worker cost per file: median {statistics.median(extra) * 1000:.2f} ms, "
        f"mean {statistics.mean(extra) * 1000:.2f} ms ({sum(there) / sum(here) - 1:+.0%} on the parse step)"
    )


if __name__ == "__main__":
    main()
