"""Database engines and schema migration, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``, tuned per backend.

    SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit then costs no
    fsync of the database file, which is what makes per-file transactions fast
    enough for bulk ingest, while a crash can lose at most the last commits, never
    corrupt the file. An in-memory URL (``sqlite://``) shares one connection so
    every session sees the same database.
    """
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling leaves DDL outside transactions, so a
    # migration failing half-way would stay half-applied. Turn it off and let
    # SQLAlchemy's begin issue a real BEGIN (the SQLAlchemy docs' recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest; a no-op when it is there).

    SQLite alters a table by copying it into a new one and dropping the old;
    with foreign keys enforced, that drop fails while other tables point at the
    old one. So foreign keys are switched off around SQLite migrations (the
    pragma cannot change inside a transaction, hence before ``begin``), then on.
    """
    config = Config()
    config.set_main_option("script_location", str(files("kb") / "migrations"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection  # outside any transaction
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
