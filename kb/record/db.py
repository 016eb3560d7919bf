"""Database engines and schema migration, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


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
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Execution option marking a connection whose transactions will write (see write_session).
WRITE_OPTION = "kb_write"


def write_session(engine: Engine) -> Session:
    """A session for a transaction that writes: on SQLite it takes the write lock at BEGIN.

    Why: a SQLite transaction started with a plain (deferred) BEGIN reads from a
    snapshot; if another connection commits before it writes, its first write fails
    at once with "database is locked" (SQLITE_BUSY_SNAPSHOT). The busy timeout cannot
    help, since waiting would not refresh the stale snapshot. ``BEGIN IMMEDIATE``
    takes the lock first, so a concurrent writer (the indexer saving vectors, the
    audit log, a second upload) makes it wait its turn instead of failing. Readers
    are never blocked (WAL), which is why read-only sessions keep the plain BEGIN.
    On PostgreSQL this is an ordinary session.
    """
    return Session(engine.execution_options(**{WRITE_OPTION: True}))


# Key of the PostgreSQL advisory lock that serialises migrations (any constant shared by all releases).
MIGRATION_LOCK = 0x6B62_6D69  # "kbmi"


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest; a no-op when it is there), once.

    Replicas starting together must not race: on PostgreSQL the upgrade runs
    under a session advisory lock, on a SQLite file under an exclusive file
    lock beside it. The second process waits, then finds the schema current.

    SQLite alters a table by copying it into a new one and dropping the old;
    with foreign keys enforced, that drop fails while other tables point at the
    old one. So foreign keys are switched off around SQLite migrations (the
    pragma cannot change inside a transaction, hence before ``begin``), then on.
    """
    config = Config()
    config.set_main_option("script_location", str(files("kb.record") / "migrations"))
    with _migration_lock(engine), engine.connect() as connection:
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


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """An advisory lock (PostgreSQL) or a file lock (a SQLite file) held while migrating; nothing in memory."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(files("kb.record") / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
