"""SQLite write transactions wait their turn instead of failing with "database is locked"."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from kb.record.db import make_engine, write_session


def test_read_then_write_survives_a_concurrent_commit(tmp_path: Path) -> None:
    """A transaction that reads, then writes, while another connection commits in between.

    With a deferred BEGIN the read pins a snapshot and the write fails at once
    (SQLITE_BUSY_SNAPSHOT; the busy timeout does not apply). This is how loading
    the demo failed while the indexer stored vectors. ``write_session`` takes the
    lock at BEGIN, so the other writer waits instead and both writes land.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with write_session(engine) as other:
                other.execute(text("INSERT INTO t VALUES ('other')"))
                other.commit()
        except BaseException as exc:
            errors.append(exc)
        other_done.set()

    with write_session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert not other_done.wait(0.5), "the other writer should wait for our lock"
        session.execute(text("INSERT INTO t VALUES ('ours')"))
        session.commit()
    thread.join(30)
    assert errors == []
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT v FROM t")).scalars()) == ["other", "ours"]


def test_reads_are_not_blocked_by_a_writer(tmp_path: Path) -> None:
    """Read-only sessions keep the deferred BEGIN: a long write never stalls searches (WAL)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('a')"))
    with write_session(engine) as writer:
        writer.execute(text("INSERT INTO t VALUES ('b')"))
        with engine.connect() as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        writer.commit()
