"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import kb.record.models  # noqa: F401
from kb.config import Settings
from kb.record.db import make_engine, migrate
from kb.record.store import SqlStore, open_store


def test_migrated_schema_matches_models(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    """A data dir made by an older release upgrades in place, its documents and chunks intact."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO document (id, kind, title, body, language, tags, status, meta, content_hash, created_at,"
                " updated_at) VALUES ('d1', 'lesson', '古い教訓', '本文', 'ja', '[]', 'published', '{}', 'h',"
                " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(text("INSERT INTO chunk (document_id, position, heading, text) VALUES ('d1', 0, '', '本文')"))
    engine.dispose()
    store = open_store(Settings(data_dir=tmp_path))
    assert store.get("d1").title == "古い教訓" and store.get("d1").attachment_id is None
    assert [c.text for c in store.chunks(["d1"])] == ["古い教訓", "本文"]  # with its title chunk (0004)
    store.close()


def test_a_failing_migration_leaves_nothing_half_applied(tmp_path: Path) -> None:
    """DDL runs inside the migration's transaction on SQLite too (not pysqlite's autocommit)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
    with pytest.raises(OperationalError, match="already exists"), engine.begin() as conn:
        conn.execute(text("CREATE TABLE half (x INTEGER)"))
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
    with engine.connect() as conn:
        tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert "half" not in tables
    engine.dispose()


def _insert_document(conn: Connection, doc_id: str, kind: str, title: str, chunks: list[str]) -> None:
    conn.execute(
        text(
            "INSERT INTO document (id, kind, title, body, language, tags, status, meta, content_hash, created_at,"
            " updated_at) VALUES (:id, :kind, :title, :body, 'ja', '[]', 'published', '{}', 'h',"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        ),
        {"id": doc_id, "kind": kind, "title": title, "body": "\n\n".join(chunks)},
    )
    for n, chunk in enumerate(chunks):
        conn.execute(
            text("INSERT INTO chunk (document_id, position, heading, text) VALUES (:d, :n, '', :t)"),
            {"d": doc_id, "n": n, "t": chunk},
        )


def test_faqs_and_lessons_stored_before_get_their_title_chunk_and_are_reindexed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    migrate(engine, "0003")
    with engine.begin() as conn:
        _insert_document(conn, "faq", "faq", "転入届は？", ["窓口で。", "郵送も可。"])
        _insert_document(conn, "only", "faq", "質問だけ", ["質問だけ"])
        _insert_document(conn, "lesson", "lesson", "古い教訓", ["本文"])
        _insert_document(conn, "proc", "procedure", "変更管理手順", ["申請する。"])
    engine.dispose()
    store = open_store(Settings(data_dir=tmp_path))
    chunks = store.chunks(["faq", "only", "lesson", "proc"])
    assert [(c.document_id, c.position, c.text) for c in chunks] == [
        ("faq", 0, "転入届は？"),
        ("faq", 1, "窓口で。"),
        ("faq", 2, "郵送も可。"),
        ("lesson", 0, "古い教訓"),
        ("lesson", 1, "本文"),
        ("only", 0, "質問だけ"),
        ("proc", 0, "申請する。"),  # a procedure's title is a name: no chunk of its own
    ]
    assert sorted(c.document_id for c in store.changes_since(0)) == ["faq", "lesson"]  # the indexes re-embed them
    store.close()
    config = Config()
    config.set_main_option("script_location", str(files("kb.record") / "migrations"))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT position, text FROM chunk WHERE document_id = 'faq' ORDER BY position"))
        assert [tuple(r) for r in rows] == [(0, "窓口で。"), (1, "郵送も可。")]
