"""Document commands: ingest, demo, list, show, export, import, stats."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from app import documents as app_documents
from app import intake, maintenance
from app.intake import demo_folder
from cli.accounts import first_admin
from cli.common import AsJson, DataDir, domain_errors, err, kb_for, local_caller, out, print_json, progress_bar
from ingest.options import parse_map_args
from ingest.pipeline import FileReport, FileStatus, IngestReport
from ingest.walk import discover
from kb.errors import InvalidInput
from kb.record.models import Kind

app = typer.Typer()


def run_ingest(
    paths: list[Path],
    data_dir: Path | None,
    *,
    sync: bool,
    as_json: bool,
    index: bool,
    column_map: dict[str, str] | None = None,
    kind: Kind | None = None,
    follow_links: bool = False,
) -> IngestReport:
    """Ingest files (``app.intake.ingest_files``) showing progress, then print what happened.

    SIGTERM (``timeout``, a service manager) is turned into Ctrl-C while this
    runs, so ``app.intake`` still indexes what was stored before the command exits.
    """
    total = sum(1 for _ in discover(paths, follow_links=follow_links))
    with (
        _terminate_as_interrupt(),
        kb_for(data_dir, create=True) as kb,
        progress_bar("{task.description}", quiet=as_json) as progress,
    ):
        files_task = progress.add_task("ingest", total=total)
        index_task = progress.add_task("index", total=None, visible=False)

        def on_file(result: FileReport) -> None:
            if result.status is not FileStatus.removed and result.within is None:  # files found, not attachments
                progress.advance(files_task)

        def on_progress(done: int, total: int) -> None:
            progress.update(index_task, completed=done, total=total, visible=True)

        done = intake.ingest_files(
            kb,
            caller=local_caller(),
            paths=paths,
            sync=sync,
            column_map=column_map,
            kind=kind,
            follow_links=follow_links,
            index=index,
            on_file=on_file,
            on_progress=on_progress,
        )
    report = done.report
    if as_json:
        print_json({**report.as_json(), "indexed": done.indexed})
    else:
        for failure in report.failed:
            err.print(f"[red]failed[/red] {escape(failure.error or '')}", highlight=False)
        summary = ", ".join(f"{n} {status}" for status, n in report.summary().items() if n or status != "skipped")
        out.print(f"{len(report.files)} files: {summary}", highlight=False)
        if index:
            out.print(f"indexed {done.indexed} changed documents", highlight=False)
    return report


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into ``KeyboardInterrupt`` while ingesting, so ``finally`` blocks (indexing) still run.

    Python's default for SIGTERM is to die on the spot; a signal handler can only
    be set from the main thread, so elsewhere (a test runner's thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


NoIndex = Annotated[bool, typer.Option("--no-index", help="Store only; the search indexes catch up later.")]


@app.command()
@domain_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    sync: Annotated[
        bool, typer.Option("--sync", help="Also remove documents whose files are gone from these folders.")
    ] = False,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=FIELD",
            help="Map a spreadsheet or JSON column to a field (repeatable), e.g. --map 教訓=lesson --map 発生日=date.",
        ),
    ] = None,
    kind: Annotated[
        Kind | None,
        typer.Option("--kind", help="Kind of documents whose files do not say (Word, PDF, HTML, text, sheets)."),
    ] = None,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links",
            help="Read links in folders that point inside the folder (links out of it are always refused).",
        ),
    ] = False,
    no_index: NoIndex = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Ingest files and folders (Markdown, CSV/XLSX, JSON Lines, Word, PDF, HTML, text), then update the indexes.

    Exit 1 when any file failed.
    """
    mapping = parse_map_args(column_map or [])
    report = run_ingest(
        paths,
        data_dir,
        sync=sync,
        as_json=as_json,
        index=not no_index,
        column_map=mapping,
        kind=kind,
        follow_links=follow_links,
    )
    if report.failed:
        raise typer.Exit(1)


@app.command()
@domain_errors
def demo(no_index: NoIndex = False, data_dir: DataDir = None) -> None:
    """Load the demo knowledge base that ships with the package; on a store without users, create an admin."""
    report = run_ingest([demo_folder()], data_dir, sync=True, as_json=False, index=not no_index)
    first_admin(data_dir)
    if report.failed:
        raise typer.Exit(1)


@app.command("list")
@domain_errors
def list_documents(
    kind: Annotated[Kind | None, typer.Option("--kind", help="Only documents of this kind.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """List stored documents."""
    with kb_for(data_dir) as kb:
        docs = app_documents.listed(kb, caller=local_caller(), kind=kind)
    if as_json:
        print_json(
            [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "title": d.title,
                    "language": d.language,
                    "project": d.project,
                    "status": d.status,
                }
                for d in docs
            ]
        )
        return
    table = Table("id", "kind", "lang", "title", "project", box=None)
    for d in docs:
        table.add_row(d.id, d.kind, d.language, d.title, d.project or "")
    out.print(table)


@app.command()
@domain_errors
def show(
    doc_id: Annotated[str, typer.Argument(help="Document id.")], as_json: AsJson = False, data_dir: DataDir = None
) -> None:
    """Show one document with its metadata."""
    with kb_for(data_dir) as kb:
        doc, children = app_documents.with_children(kb, caller=local_caller(), doc_id=doc_id)
    record = doc.model_dump(mode="json")
    record["children"] = [c.id for c in children]
    if as_json:
        print_json(record)
        return
    for key in (
        "id",
        "kind",
        "title",
        "language",
        "project",
        "phase",
        "tags",
        "owner",
        "status",
        "version",
        "review_by",
        "doc_date",
        "category",
        "impact",
        "supersedes",
        "parent_id",
        "source_path",
    ):
        if record.get(key) not in (None, "", []):
            out.print(f"[bold]{key}[/bold]: {record[key]}", highlight=False)
    for child in children:
        out.print(f"[bold]lesson[/bold]: {child.id} {child.title}", highlight=False)
    out.print()
    out.print(doc.body, markup=False, highlight=False)


@app.command("export")
@domain_errors
def export_documents(
    file: Annotated[Path, typer.Argument(help="JSON Lines file to write ('-' for stdout).")], data_dir: DataDir = None
) -> None:
    """Export every document as JSON Lines (a lossless round trip with `kb import`)."""
    with kb_for(data_dir) as kb:
        records = maintenance.export(kb, caller=local_caller())
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records]
    if str(file) == "-":
        sys.stdout.writelines(lines)
        return
    file.write_text("".join(lines), encoding="utf-8")
    err.print(f"exported {len(lines)} documents to {file}", highlight=False)


@app.command("import")
@domain_errors
def import_documents(
    file: Annotated[Path, typer.Argument(help="JSON Lines file written by `kb export`.")], data_dir: DataDir = None
) -> None:
    """Import documents exported by `kb export`, all or nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read: {exc}", source=str(file)) from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc.msg}", source=str(file), line=number) from exc
    with kb_for(data_dir, create=True) as kb:
        result = maintenance.import_records(kb, caller=local_caller(), records=records)
    out.print(f"imported {len(result.added)} documents, {len(result.unchanged)} already present", highlight=False)


@app.command()
@domain_errors
def stats(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Counts of documents per kind, chunks and sources."""
    with kb_for(data_dir) as kb:
        counts = maintenance.stats(kb)
    if as_json:
        print_json(counts)
        return
    for key, value in counts.items():
        out.print(f"{key}: {value}", highlight=False)
