"""Operations commands: `kb migrate`, `kb backup`, `kb restore`.

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
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli.accounts import actor
from cli.common import DataDir, domain_errors, err, kb_for, out, settings_for
from kb.errors import Conflict, InvalidInput
from kb.identity.audit import AuditLog
from kb.record.db import current_revision, head_revision, make_engine, migrate
from kb.record.store import open_store

app = typer.Typer()
MANIFEST = "kb-backup.json"


@app.command("migrate")
@domain_errors
def migrate_command(data_dir: DataDir = None) -> None:
    """Bring the database schema to this release (under a lock: replicas starting together wait, never race)."""
    settings = settings_for(data_dir, create=True)
    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url)
    try:
        before = current_revision(engine)
        migrate(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        out.print(f"schema is current (revision {after})", highlight=False)
    else:
        out.print(f"schema migrated from {before or 'empty'} to {after}", highlight=False)


def _pg_url(url: str) -> str:
    """A libpq URL for pg_dump/pg_restore (SQLAlchemy's driver suffix removed)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@app.command("backup")
@domain_errors
def backup(
    folder: Annotated[Path, typer.Argument(help="New folder to write the backup into.")], data_dir: DataDir = None
) -> None:
    """Take a consistent snapshot of the store (documents, originals, accounts, audit log, analytics)."""
    settings = settings_for(data_dir)
    url = settings.resolved_database_url
    if folder.exists() and any(folder.iterdir()):
        raise Conflict(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(settings)  # migrates first: a backup is always at this release's schema
    try:
        seq, revision = store.last_seq(), current_revision(store.engine)
    finally:
        store.close()
    if url.startswith("sqlite"):
        source = sqlite3.connect(str(make_url(url).database))
        target = sqlite3.connect(str(folder / "kb.sqlite3"))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        kind = "sqlite"
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={folder / 'kb.pgdump'}", _pg_url(url)])
        kind = "postgresql"
    manifest = {"format": kind, "revision": revision, "last_seq": seq, "taken_at": dt.datetime.now(dt.UTC).isoformat()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    out.print(f"backed up the {kind} store at change {seq} (schema {revision}) to {folder}", highlight=False)


@app.command("restore")
@domain_errors
def restore(
    folder: Annotated[Path, typer.Argument(help="A folder written by `kb backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a store that already holds documents.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Restore a backup into the configured store, then drop the derived indexes (rebuilt on the next start).

    Stop the servers first. The backup must come from the same kind of database (SQLite or PostgreSQL).
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"not a kb backup: {exc}", source=str(folder)) from exc
    settings = settings_for(data_dir, create=True)
    url = settings.resolved_database_url
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest.get("format") != kind:
        raise InvalidInput(f"this backup is of a {manifest.get('format')} store; the configured store is {kind}")
    store = open_store(settings)
    try:
        holds = sum(v for k, v in store.counts().items() if k not in ("chunks", "sources"))
    finally:
        store.close()
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
    store = open_store(settings)  # migrates an older backup to this release
    try:
        AuditLog(store.engine).record(actor(), "restore", str(folder), address="local", **manifest)
        revision = current_revision(store.engine)
    finally:
        store.close()
    out.print(
        f"restored {folder} (change {manifest['last_seq']}, schema now {revision}); indexes rebuild on next start"
    )
    if revision != head_revision():
        err.print("warning: the schema is not at this release's head", highlight=False)


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    except FileNotFoundError as exc:
        raise InvalidInput(f"{command[0]} is not installed (it comes with the PostgreSQL client)") from exc
    if result.returncode != 0:
        raise InvalidInput(f"{command[0]} failed: {result.stderr.strip()[:500]}")


@app.command("check")
@domain_errors
def check(data_dir: DataDir = None) -> None:
    """Check the store (integrity, orphans, change log) and that the indexes agree with it; exit 1 on problems."""
    with kb_for(data_dir) as kb:
        kb.catch_up()
        problems = [f"store: {p}" for p in kb.store.check()] + [f"index: {p}" for p in kb.indexer.check()]
    for problem in problems:
        err.print(problem, highlight=False)
    if problems:
        raise typer.Exit(1)
    out.print("store and indexes are consistent", highlight=False)
