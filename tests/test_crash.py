"""Crash safety: `kb ingest` killed with SIGKILL at random points of a 1,000-document ingest, several times.

After every kill the store passes its integrity check, search works, and
once caught up the derived indexes agree with the store; re-running the
ingest then completes with the right counts, and the indexes equal a fresh
rebuild. On SQLite and on PostgreSQL, with the real default embedder.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.search.indexer import rebuild

pytestmark = pytest.mark.slow
FILES = 1000
KB = [str(Path(sys.executable).with_name("kb"))]


def _corpus(folder: Path) -> None:
    folder.mkdir()
    for n in range(FILES):
        (folder / f"faq-{n:04d}.md").write_text(
            f"---\nkind: faq\nproject: P{n % 17}\n---\n# How is case crashword{n}x handled?\n\n"
            f"Case crashword{n}x goes to team {n % 13} within {n % 5 + 1} days.\n",
            encoding="utf-8",
        )


def _ingest(folder: Path, data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # its own process group, so the kill takes its parse workers with it, as a machine's death would
    return subprocess.Popen(
        [*KB, "ingest", "--json", str(folder), "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_sigkill_during_ingest_never_corrupts_the_store_or_the_indexes(
    tmp_path: Path, database_url: str | None
) -> None:
    folder, data = tmp_path / "corpus", tmp_path / "data"
    _corpus(folder)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if database_url:
        env["KB_DATABASE_URL"] = database_url
    settings = Settings(data_dir=data, database_url=database_url)
    rng = random.Random(13)
    for low, high in ((1, 4), (3, 10), (6, 20)):
        process = _ingest(folder, data, env)
        time.sleep(rng.uniform(low, high))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert process.stdout is not None
        process.stdout.close()
        kb = KnowledgeBase.open(settings)
        try:
            assert kb.store.check() == []
            kb.catch_up()
            assert kb.indexer.check() == []
            stored = kb.store.counts().get("faq", 0)
            result = kb.searcher.search("crashword0x", mode="lexical")
            assert result.total == (1 if stored and kb.store.source_hash(str(folder / "faq-0000.md")) else 0)
        finally:
            kb.close()
    finished = subprocess.run(
        [*KB, "ingest", "--json", str(folder), "--data-dir", str(data)], env=env, capture_output=True, check=False
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    summary = json.loads(finished.stdout)["summary"]
    assert summary["failed"] == 0 and summary["added"] + summary["unchanged"] + summary["updated"] == FILES
    kb = KnowledgeBase.open(settings)
    try:
        assert kb.store.counts()["faq"] == FILES and kb.store.check() == [] and kb.indexer.check() == []
        fresh = rebuild(kb.store, kb.embedder, tmp_path / "fresh-index")
        assert {d: sorted(i.chunk_ids) for d, i in kb.indexer.docs.items()} == {
            d: sorted(i.chunk_ids) for d, i in fresh.docs.items()
        }
        query = kb.embedder.embed_query("which team handles the case")
        sample = np.array(sorted(fresh.chunk_doc)[::50], dtype=np.int64)
        assert np.allclose(kb.indexer.vectors.scores(query, sample), fresh.vectors.scores(query, sample), atol=1e-5)
        assert (
            kb.searcher.search("crashword777x", mode="lexical")
            .hits[0]
            .document.title.endswith("crashword777x handled?")
        )
    finally:
        kb.close()
