"""Following the change log under concurrent writers: no change is skipped, whatever order they commit in.

On PostgreSQL, writers take change numbers in one order and commit in
another. Each writer here sleeps a random while *after* taking its number and
before committing, so later numbers become visible first, while a follower
catches up as fast as it can. At the end its indexes must equal a fresh
rebuild: same documents, same chunks, same vectors.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event
from sqlmodel import Session

from kb.record.models import DocumentDraft, Kind
from kb.record.store import SqlStore
from kb.search.indexer import Indexer, rebuild
from tests.conftest import HashingEmbedder

WRITERS = 6
WRITES_EACH = 25


def _snapshot(indexer: Indexer) -> dict[str, Any]:
    with indexer.lock:
        return {
            "docs": {d.id: (d.title, sorted(d.chunk_ids)) for d in indexer.docs.values()},
            "vectors": len(indexer.vectors),
            "lexical": sorted(indexer.chunk_doc),
        }


def _vector_of(indexer: Indexer, chunk_ids: list[int], query: np.ndarray) -> list[float]:
    return [round(float(x), 5) for x in indexer.vectors.scores(query, np.array(chunk_ids, dtype=np.int64))]


@pytest.mark.postgres
def test_a_follower_never_skips_a_change_committed_late(postgres_store: SqlStore, tmp_path: Path) -> None:
    store = postgres_store
    embedder = HashingEmbedder()
    follower = Indexer(store, embedder, tmp_path / "follower")
    rng = random.Random(7)
    delays = threading.local()

    def slow_commit(session: Session) -> None:  # after the change row got its number, before it is visible
        if getattr(delays, "on", False):
            time.sleep(rng.random() * 0.05)

    event.listen(Session, "before_commit", slow_commit)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        delays.on = True
        try:
            ids: list[str] = []
            for i in range(WRITES_EACH):
                if ids and i % 3 == 0:  # some updates and deletes, not only inserts
                    target = ids[(i // 3) % len(ids)]
                    draft = DocumentDraft(kind=Kind.lesson, title=f"writer {n} edit {i}", body=f"edited {n} {i}")
                    store.update(target, draft)
                elif ids and i % 7 == 0:
                    store.delete(ids.pop())
                else:
                    draft = DocumentDraft(kind=Kind.faq, title=f"writer {n} doc {i}", body=f"body of {n} {i} " * 5)
                    ids.append(store.create(draft).id)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            follower.catch_up()
        follower.catch_up()
    finally:
        event.remove(Session, "before_commit", slow_commit)
    assert errors == []
    assert follower.seq == store.last_seq()
    fresh = rebuild(store, embedder, tmp_path / "fresh")
    assert _snapshot(follower) == _snapshot(fresh)
    query = embedder.embed_query("edited body")
    some = sorted(fresh.chunk_doc)[:50]
    assert _vector_of(follower, some, query) == _vector_of(fresh, some, query)  # the same content was embedded


def test_a_gap_blocks_the_watermark_only_while_its_transaction_may_commit(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    """The watermark logic with a stubbed PostgreSQL horizon: a missing number waits, then is given up."""
    indexer = Indexer(sqlite_store, HashingEmbedder(), tmp_path / "idx")
    indexer._applied_above = {1, 3, 4}
    indexer._advance((10, 20), (10, 20))  # seq 2 missing, first seen while transactions below xmax 20 may run
    assert indexer.seq == 1 and indexer._gaps == {2: 20}
    indexer._advance((15, 25), (15, 25))  # xmin 15 < 20: the writer of seq 2 may still commit
    assert indexer.seq == 1
    indexer._advance((20, 30), (20, 30))  # every transaction that could hold seq 2 has ended
    assert indexer.seq == 4 and indexer._gaps == {} and indexer._applied_above == set()
