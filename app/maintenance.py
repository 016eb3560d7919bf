"""Keeping a knowledge base: counts, export and import, the indexes, the schema, backups and restores.

The database is the only system of record, originals included (they are
stored in it), so a backup is a consistent snapshot of the database: SQLite's
online backup API (a transaction-consistent copy while the app keeps
serving), or ``pg_dump`` for PostgreSQL (one snapshot transaction). The
search indexes are derived and never backed up: after a restore they are
dropped and rebuilt from the store on the next start.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from app import search
from app.caller import Caller
from app.effects import audit, indexed
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.errors import Conflict, InvalidInput
from kb.identity.access import require
from kb.pmo.analytics import SearchReport
from kb.record.db import current_revision, head_revision, make_engine, migrate
from kb.record.models import Role
from kb.record.store import WriteResult

MANIFEST = "kb-backup.json"
Progress = Callable[[int, int], None]


def stats(kb: KnowledgeBase) -> dict[str, int]:
    """Documents per kind, chunks and sources, and the last change-log number."""
    return {**kb.store.counts(), "last_change": kb.store.last_seq()}


def index_stats(kb: KnowledgeBase) -> dict[str, Any]:
    """What this process's indexes hold: documents, chunks, the embedder, the change they reflect."""
    return kb.indexer.stats()


@dataclass(frozen=True)
class Overview:
    documents: dict[str, int]
    index: dict[str, Any]
    searches: SearchReport


def overview(kb: KnowledgeBase, *, caller: Caller) -> Overview:
    """Documents per kind, index state, and what people search for (PMO admins: ``/api/stats``)."""
    return Overview(kb.store.counts(), kb.indexer.stats(), search.report(kb, caller=caller))


@dataclass(frozen=True)
class Readiness:
    """How far this replica's indexes are behind the change log (``/readyz``, ``/metrics``)."""

    applied: int
    last: int
    documents: int

    @property
    def ready(self) -> bool:
        return self.applied >= self.last

    @property
    def lag(self) -> int:
        return max(0, self.last - self.applied)


def readiness(kb: KnowledgeBase) -> Readiness:
    """Read the index first: a change committed in between then shows as lag, never as ready too early."""
    held = kb.indexer.stats()
    return Readiness(applied=held["seq"], last=kb.store.last_seq(), documents=held["documents"])


def catch_up(kb: KnowledgeBase, *, on_progress: Progress | None = None) -> int:
    """Bring the indexes up to the store's change log and save them; the documents re-indexed."""
    return kb.catch_up(on_progress)


def follow(kb: KnowledgeBase) -> int:
    """Apply what other processes wrote to the change log (a server's follower thread); the documents applied.
    Kept in memory: ``save_indexes`` writes a generation."""
    return kb.indexer.catch_up()


def save_indexes(kb: KnowledgeBase) -> None:
    """Write the indexes as a new generation, so a restart has little to catch up."""
    kb.indexer.save()


def export(kb: KnowledgeBase, *, caller: Caller) -> list[dict[str, Any]]:
    """Every document as a plain record (a lossless round trip with ``import_records``); PMO admins."""
    require(caller.principal, Role.pmo_admin)
    return list(kb.store.export_records())


def import_records(kb: KnowledgeBase, *, caller: Caller, records: Iterable[dict[str, Any]]) -> WriteResult:
    """Import exported documents, all or nothing, with the audit row in the same transaction; PMO admins."""
    require(caller.principal, Role.pmo_admin)
    with kb.store.transaction():
        result = kb.store.import_records(records)
        audit(kb, caller, "import", "records", added=len(result.added), unchanged=len(result.unchanged))
    indexed(kb)
    return result


def reindex(kb: KnowledgeBase, *, caller: Caller, on_progress: Progress | None = None) -> dict[str, Any]:
    """Rebuild both indexes from the store aside, then swap them in; what they now hold."""
    require(caller.principal, Role.pmo_admin)
    kb.reindex(on_progress)
    return kb.indexer.stats()


def check(kb: KnowledgeBase, *, caller: Caller) -> list[str]:
    """Problems in the store (integrity, orphans, change log) and where the indexes disagree with it."""
    require(caller.principal, Role.pmo_admin)
    kb.catch_up()
    return [f"store: {p}" for p in kb.store.check()] + [f"index: {p}" for p in kb.indexer.check()]


def without_users(kb: KnowledgeBase) -> bool:
    """Whether nobody could log in yet (``kb serve`` then says how to create the first admin)."""
    return not kb.accounts.count() and kb.settings.anonymous_role == "none"


def migrate_schema(settings: Settings) -> tuple[str | None, str | None]:
    """Bring the schema to this release under a lock (replicas starting together wait); (before, after)."""
    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    try:
        before = current_revision(engine)
        migrate(engine)
        return before, current_revision(engine)
    finally:
        engine.dispose()


def _kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _pg_url(url: str) -> str:
    """A libpq URL for pg_dump/pg_restore (SQLAlchemy's driver suffix removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(kb: KnowledgeBase, *, caller: Caller, folder: Path) -> dict[str, Any]:
    """Snapshot the store (documents, originals, accounts, audit log, analytics) into a new folder; the manifest.

    The knowledge base was opened (and so migrated) first: a backup is always at this release's schema.
    """
    require(caller.principal, Role.pmo_admin)
    url = kb.settings.resolved_database_url
    if folder.exists() and any(folder.iterdir()):
        raise Conflict(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    seq, revision = kb.store.last_seq(), current_revision(kb.store.engine)
    kind = _kind(url)
    if kind == "sqlite":
        source = sqlite3.connect(str(make_url(url).database))
        target = sqlite3.connect(str(folder / "kb.sqlite3"))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={folder / 'kb.pgdump'}", _pg_url(url)])
    manifest = {"format": kind, "revision": revision, "last_seq": seq, "taken_at": dt.datetime.now(dt.UTC).isoformat()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    revision: str | None

    @property
    def at_head(self) -> bool:
        return self.revision == head_revision()


def restore(settings: Settings, *, caller: Caller, folder: Path, force: bool = False) -> Restored:
    """Restore a backup into the configured store, then drop the derived indexes (rebuilt on the next start).

    Takes settings, not an open knowledge base: the database is replaced
    underneath, so it is opened before (to count what would be lost) and
    after (to migrate an older backup and audit the restore), never across.
    """
    require(caller.principal, Role.pmo_admin)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"not a kb backup: {exc}", source=str(folder)) from exc
    url = settings.resolved_database_url
    kind = _kind(url)
    if manifest.get("format") != kind:
        raise InvalidInput(f"this backup is of a {manifest.get('format')} store; the configured store is {kind}")
    kb = KnowledgeBase.open(settings)
    try:
        holds = sum(v for k, v in kb.store.counts().items() if k not in ("chunks", "sources"))
    finally:
        kb.close()
    if holds and not force:
        raise Conflict(f"the store holds {holds} documents: pass --force to replace them with the backup")
    if kind == "sqlite":
        target = Path(str(make_url(url).database))
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(folder / "kb.sqlite3", target)
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_pg_url(url)}",
                str(folder / "kb.pgdump"),
            ]
        )
    shutil.rmtree(settings.data_dir / "index", ignore_errors=True)
    kb = KnowledgeBase.open(settings)  # migrates an older backup to this release
    try:
        audit(kb, caller, "restore", str(folder), **manifest)
        return Restored(manifest, current_revision(kb.store.engine))
    finally:
        kb.close()


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    except FileNotFoundError as exc:
        raise InvalidInput(f"{command[0]} is not installed (it comes with the PostgreSQL client)") from exc
    if result.returncode != 0:
        raise InvalidInput(f"{command[0]} failed: {result.stderr.strip()[:500]}")
