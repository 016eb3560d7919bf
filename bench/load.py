"""HTTP load: search clients against one and two replicas while ingest runs, or against a running server.

    python bench/load.py [--clients 1,8] [--seconds 30] [--replicas 1,2]
    python bench/load.py --url http://127.0.0.1:8000 --token TOKEN [--clients 1,8] [--seconds 30]

With ``--url`` it loads a server you started (no writer, no cluster): for each
client count it runs that many threads searching ``/api/search`` for
``--seconds`` and prints requests, errors, req/s and latency p50/p99. The
issue-18 target, 8 clients at 100k chunks on a quiet 2-core machine:

    python bench/search_scale.py --chunks 100000 --keep DIR  # builds the 100k-chunk data dir DIR and keeps it
    kb token create admin --name load --data-dir DIR          # (after `kb user add admin --role pmo_admin`)
    kb serve --data-dir DIR --port 8000 &
    python bench/load.py --url http://127.0.0.1:8000 --token TOKEN --clients 1,8 --seconds 60

Target: 8 clients >= 30 req/s with p99 <= 500 ms, and at demo size 8 clients
at least the one-client rate. (``kb serve`` pins BLAS/OpenMP to one thread:
KB_NATIVE_THREADS.)

For each replica count it starts the local cluster (deploy/local_cluster.py:
PostgreSQL on 127.0.0.1:5432, `kb serve` replicas, Debian's nginx in front),
loads the demo, then for ``--seconds`` runs ``--clients`` threads searching
through the proxy (queries from ../shared/eval, Japanese and English) while a
writer posts a new document every half second through the proxy and times
how long until a search through the proxy finds it. Prints requests, errors,
throughput, latency p50/p99 and time-to-searchable p50/max. Everything stays
on 127.0.0.1 and is bounded by count and time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("local_cluster", ROOT / "deploy" / "local_cluster.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


QUERY_SETS = {"both": ("ja_localgovfaq", "en_stackfaq"), "ja": ("ja_localgovfaq",), "en": ("en_stackfaq",)}


def queries(eval_dir: Path, lang: str = "both") -> list[str]:
    """Real user questions (Japanese citizen questions, English StackFAQ rephrasings), shuffled."""
    found: list[str] = []
    for name in QUERY_SETS[lang]:
        with (eval_dir / name / "queries.jsonl").open(encoding="utf-8") as f:
            found += [json.loads(line)["text"] for line in f]
    random.Random(3).shuffle(found)
    return found[:2000]


def run(replicas: int, clients: int, seconds: float, texts: list[str], port: int) -> dict[str, float]:
    cluster = cluster_module().Cluster(
        Path(tempfile.mkdtemp(prefix="kb-load-")), database=f"kb_load_{replicas}", replicas=replicas, port=port
    )
    cluster.start()
    try:
        token = cluster.kb("token", "create", "admin", "--name", "load").strip()
        return {"replicas": replicas} | load(cluster.proxy_url, token, clients, seconds, texts, write=True)
    finally:
        cluster.stop()


def load(base: str, token: str, clients: int, seconds: float, texts: list[str], *, write: bool) -> dict[str, float]:
    """``clients`` threads searching ``base``/api/search for ``seconds`` (and a writer when ``write``)."""
    auth = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = [0]
    visible: list[float] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def searcher(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(timeout=30, headers=auth) as http:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    r = http.get(f"{base}/api/search", params={"q": rng.choice(texts)[:200]})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    if ok:
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        errors[0] += 1

    def writer() -> None:
        n = 0
        with httpx.Client(timeout=30, headers=auth) as http:
            while time.monotonic() < stop - 3:
                word = f"loadword{n}x"
                body = {"kind": "faq", "title": f"{word} question", "body": f"{word} answer"}
                if http.post(f"{base}/api/documents", json=body).status_code != 201:
                    errors[0] += 1
                    continue
                written = time.perf_counter()
                while time.perf_counter() - written < 30:
                    r = http.get(f"{base}/api/search", params={"q": word, "mode": "lexical"})
                    if r.status_code == 200 and r.json()["total"]:
                        visible.append((time.perf_counter() - written) * 1000)
                        break
                    time.sleep(0.02)
                n += 1
                time.sleep(0.5)

    threads = [threading.Thread(target=searcher, args=(n,)) for n in range(clients)]
    if write:
        threads.append(threading.Thread(target=writer))
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - began
    p50, p99 = np.percentile(latencies, [50, 99]) if latencies else (float("nan"), float("nan"))
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / took,
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "writes": len(visible),
        "visible_p50_ms": float(np.percentile(visible, 50)) if visible else float("nan"),
        "visible_max_ms": max(visible) if visible else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="8", help="client counts to run, e.g. 1,8")
    parser.add_argument("--url", help="load this running server instead of starting the local cluster")
    parser.add_argument("--token", default="", help="API token for --url")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--port", type=int, default=24100)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--lang", choices=sorted(QUERY_SETS), default="both", help="which queries: ja, en or both")
    args = parser.parse_args()
    texts = queries(args.eval_dir, args.lang)
    counts = [int(c) for c in args.clients.split(",")]
    if args.url:
        print(f"{args.url}/api/search for {args.seconds:.0f} s per row, no writer")
        print("clients  requests  errors   req/s   p50 ms   p99 ms")
        for clients in counts:
            row = load(args.url, args.token, clients, args.seconds, texts, write=False)
            print(
                f"{clients:>7}  {row['requests']:>8}  {row['errors']:>6}  {row['rps']:>6.1f}"
                f"  {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}",
                flush=True,
            )
        return
    rows = [run(int(r), c, args.seconds, texts, args.port) for c in counts for r in args.replicas.split(",")]
    print(f"{args.clients} search clients for {args.seconds:.0f} s while a writer adds a document every 0.5 s")
    print("clients  replicas  requests  errors   req/s   p50 ms   p99 ms  writes  searchable p50 ms  max ms")
    for row in rows:
        print(
            f"{row['clients']:>7}  {row['replicas']:>8}  {row['requests']:>8}  {row['errors']:>6}  {row['rps']:>6.1f}"
            f"  {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}  {row['writes']:>6}"
            f"  {row['visible_p50_ms']:>17.0f}  {row['visible_max_ms']:>6.0f}"
        )


if __name__ == "__main__":
    main()
