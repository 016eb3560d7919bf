"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import kb.models  # noqa: F401
from kb.config import Settings
from kb.db import make_engine, migrate
from kb.store import SqlStore, open_store


def test_migrated_schema_matches_models(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    """A data dir made by an older release upgrades in place, its documents and chunks intact."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO document (id, kind, title, body, language, tags, status, meta, content_hash, created_at,"
            " updated_at) VALUES ('d1', 'lesson', '古い教訓', '本文', 'ja', '[]', 'published', '{}', 'h',"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        ))
        conn.execute(text("INSERT INTO chunk (document_id, position, heading, text) VALUES ('d1', 0, '', '本文')"))
    engine.dispose()
    store = open_store(Settings(data_dir=tmp_path))
    assert store.get("d1").title == "古い教訓" and store.get("d1").attachment_id is None
    assert [c.text for c in store.chunks(["d1"])] == ["本文"]
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
