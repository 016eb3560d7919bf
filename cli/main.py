"""The ``kb`` command: a thin layer over the store and the ingest pipeline.

Each command parses its arguments, calls the same services the web app uses,
prints human output by default and JSON with ``--json``, and turns domain
errors into a one-line message and exit code 1.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.pipeline import FileReport, FileStatus, IngestReport, discover, ingest_paths
from ingest.registry import default_registry
from kb.config import Settings
from kb.errors import InvalidInput, KbError
from kb.models import Kind
from kb.store import SqlStore, open_store

app = typer.Typer(
    help="PMO knowledge base: lessons learned, FAQs, templates and procedures.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: KB_DATA_DIR or ./kb-data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a ``KbError`` as one clear line and exit 1 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
            raise typer.Exit(1) from exc

    return wrapper


def settings_for(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@contextmanager
def store_for(data_dir: Path | None) -> Iterator[SqlStore]:
    store = open_store(settings_for(data_dir))
    try:
        yield store
    finally:
        store.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def run_ingest(paths: list[Path], data_dir: Path | None, *, sync: bool, as_json: bool) -> IngestReport:
    settings = settings_for(data_dir)
    registry = default_registry()
    total = sum(1 for _ in discover([p.resolve() for p in paths], registry))
    with store_for(data_dir) as store:
        progress = Progress(
            TextColumn("ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=as_json or not err.is_terminal,
            transient=True,
        )
        with progress:
            task = progress.add_task("ingest", total=total)

            def on_file(result: FileReport) -> None:
                if result.status is not FileStatus.removed:
                    progress.advance(task)

            report = ingest_paths(
                store, paths, registry=registry, max_file_bytes=settings.max_file_bytes, sync=sync, on_file=on_file
            )
    if as_json:
        _print_json(report.as_json())
    else:
        for failure in report.failed:
            err.print(f"[red]failed[/red] {failure.error}", highlight=False)
        summary = ", ".join(f"{n} {status}" for status, n in report.summary().items() if n or status != "skipped")
        out.print(f"{len(report.files)} files: {summary}", highlight=False)
    return report


@app.command()
@domain_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    sync: Annotated[
        bool, typer.Option("--sync", help="Also remove documents whose files are gone from these folders.")
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Ingest Markdown files and folders; exit 1 when any file failed."""
    report = run_ingest(paths, data_dir, sync=sync, as_json=as_json)
    if report.failed:
        raise typer.Exit(1)


@app.command()
@domain_errors
def demo(data_dir: DataDir = None) -> None:
    """Load the demo knowledge base that ships with the package."""
    folder = Path(str(files("ingest") / "demo_kb"))
    report = run_ingest([folder], data_dir, sync=True, as_json=False)
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
    with store_for(data_dir) as store:
        docs = store.documents(kind=kind)
    if as_json:
        _print_json(
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
    with store_for(data_dir) as store:
        doc = store.get(doc_id)
        children = store.children(doc_id)
    record = doc.model_dump(mode="json")
    record["children"] = [c.id for c in children]
    if as_json:
        _print_json(record)
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
    with store_for(data_dir) as store:
        lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in store.export_records()]
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
    with store_for(data_dir) as store:
        result = store.import_records(records)
    out.print(f"imported {len(result.added)} documents, {len(result.unchanged)} already present", highlight=False)


@app.command()
@domain_errors
def stats(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Counts of documents per kind, chunks and sources."""
    with store_for(data_dir) as store:
        counts = store.counts()
        counts["last_change"] = store.last_seq()
    if as_json:
        _print_json(counts)
        return
    for key, value in counts.items():
        out.print(f"{key}: {value}", highlight=False)


def main() -> None:
    app()
