"""Two real `kb serve` replicas on one PostgreSQL behind Debian's nginx (deploy/local_cluster.py).

A write through one replica is found through the other within
KB_FOLLOW_SECONDS + 1 s; a replica killed with SIGKILL in the middle of
writes loses nothing that was acknowledged, and catches up when restarted.
"""

from __future__ import annotations

import importlib.util
import random
import socket
import threading
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]


def _cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("local_cluster", ROOT / "deploy" / "local_cluster.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_base_port() -> int:
    """A port p with p..p+2 free (proxy and two replicas), below the ephemeral range.

    Polling a port in the ephemeral range before its server listens can
    connect the socket to itself (TCP simultaneous open).
    """
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20000, 30000)
        try:
            for offset in (0, 1, 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


def _found(client: httpx.Client, base: str, word: str, token: str) -> bool:
    r = client.get(
        f"{base}/api/search", params={"q": word, "mode": "lexical"}, headers={"Authorization": f"Bearer {token}"}
    )
    return r.status_code == 200 and r.json()["total"] > 0


def test_two_replicas_share_writes_and_survive_a_kill(tmp_path: Path) -> None:
    cluster = _cluster_module().Cluster(
        tmp_path / "cluster", database="kb_replicas_test", port=_free_base_port(), follow_seconds=1.0
    )
    try:
        printed = cluster.start()
        assert "login:    admin" in printed
        token = cluster.kb("token", "create", "admin", "--name", "replica-test").strip()
        auth = {"Authorization": f"Bearer {token}"}
        a, b = cluster.replica_url(0), cluster.replica_url(1)
        with httpx.Client(timeout=30) as http:
            assert http.get(f"{cluster.proxy_url}/api/me", headers=auth).json()["login"] == "admin"
            # a write through replica A is found through replica B within KB_FOLLOW_SECONDS + 1 s
            body = {"kind": "lesson", "title": "Replicaword lesson", "body": "replicaword appears here only"}
            assert http.post(f"{a}/api/documents", json=body, headers=auth).status_code == 201
            written = time.monotonic()
            while not _found(http, b, "replicaword", token):
                assert time.monotonic() - written <= cluster.follow_seconds + 1, "not visible through the other replica"
                time.sleep(0.05)

            # SIGKILL replica A while it is taking writes: every acknowledged write survives
            acked: list[str] = []
            stop = threading.Event()

            def writer() -> None:
                n = 0
                with httpx.Client(timeout=10) as own:
                    while not stop.is_set():
                        word = f"killword{n}x"
                        try:
                            r = own.post(
                                f"{a}/api/documents", json={"kind": "faq", "title": word, "body": word}, headers=auth
                            )
                        except httpx.HTTPError:
                            return  # the replica is gone
                        if r.status_code == 201:
                            acked.append(word)
                        n += 1

            thread = threading.Thread(target=writer)
            thread.start()
            while len(acked) < 3:  # writes are in flight: a request is being served when the kill lands
                time.sleep(0.05)
            cluster.kill_replica(0)
            stop.set()
            thread.join(timeout=30)
            deadline = time.monotonic() + cluster.follow_seconds + 5
            missing = list(acked)
            while missing and time.monotonic() < deadline:
                missing = [w for w in missing if not _found(http, b, w, token)]
            assert missing == []
            # the proxy routes around the dead replica
            assert http.get(f"{cluster.proxy_url}/api/me", headers=auth).status_code == 200
            # restarted, replica A catches up from the change log and finds them too
            cluster.start_replica(0)
            cluster.wait_ready(timeout=300)
            assert [w for w in acked if not _found(http, a, w, token)] == []
            stats = [http.get(f"{u}/api/stats", headers=auth).json()["index"] for u in (a, b)]
            assert stats[0]["documents"] == stats[1]["documents"] and stats[0]["seq"] == stats[1]["seq"]
    finally:
        cluster.stop()
