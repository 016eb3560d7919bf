"""Operations commands: `kb migrate`, `kb backup`, `kb restore`, `kb check` (the work is ``app.maintenance``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app import maintenance
from cli.common import DataDir, domain_errors, err, kb_for, local_caller, out, settings_for

app = typer.Typer()


@app.command("migrate")
@domain_errors
def migrate_command(data_dir: DataDir = None) -> None:
    """Bring the database schema to this release (under a lock: replicas starting together wait, never race)."""
    before, after = maintenance.migrate_schema(settings_for(data_dir, create=True))
    if before == after:
        out.print(f"schema is current (revision {after})", highlight=False)
    else:
        out.print(f"schema migrated from {before or 'empty'} to {after}", highlight=False)


@app.command("backup")
@domain_errors
def backup(
    folder: Annotated[Path, typer.Argument(help="New folder to write the backup into.")], data_dir: DataDir = None
) -> None:
    """Take a consistent snapshot of the store (documents, originals, accounts, audit log, analytics)."""
    with kb_for(data_dir) as kb:
        manifest = maintenance.backup(kb, caller=local_caller(), folder=folder)
    out.print(
        f"backed up the {manifest['format']} store at change {manifest['last_seq']} "
        f"(schema {manifest['revision']}) to {folder}",
        highlight=False,
    )


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
    done = maintenance.restore(settings_for(data_dir, create=True), caller=local_caller(), folder=folder, force=force)
    out.print(
        f"restored {folder} (change {done.manifest['last_seq']}, schema now {done.revision}); "
        "indexes rebuild on next start"
    )
    if not done.at_head:
        err.print("warning: the schema is not at this release's head", highlight=False)


@app.command("check")
@domain_errors
def check(data_dir: DataDir = None) -> None:
    """Check the store (integrity, orphans, change log) and that the indexes agree with it; exit 1 on problems."""
    with kb_for(data_dir) as kb:
        problems = maintenance.check(kb, caller=local_caller())
    for problem in problems:
        err.print(problem, highlight=False)
    if problems:
        raise typer.Exit(1)
    out.print("store and indexes are consistent", highlight=False)
