"""Bringing knowledge in: the retrospective form, uploads, the demo knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from app.caller import Caller
from app.effects import audit, counted, indexed
from ingest.budget import FileBudget
from ingest.forms import RetrospectiveEntry, retrospective_drafts
from ingest.pipeline import FileReport, FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from ingest.uploads import ingest_upload
from kb.engine import KnowledgeBase
from kb.identity.access import GuardedStore, admit, require
from kb.record.models import Document, Kind, Role


def save_retrospective(kb: KnowledgeBase, *, caller: Caller, entry: RetrospectiveEntry) -> list[Document]:
    """Store the retrospective and its lessons with the audit row, in one transaction; retrospective first."""
    source, drafts = retrospective_drafts(entry)
    who = caller.principal
    with kb.store.transaction():
        result = kb.store.replace_source(source, source, [admit(who, d) for d in drafts], by=caller.login)
        audit(
            kb, caller, "create", result.added[0], kind=Kind.retrospective, title=entry.title, lessons=len(drafts) - 1
        )
    counted(kb, "added", len(result.added))
    indexed(kb)
    return [kb.store.get(doc_id) for doc_id in result.added]


def upload(
    kb: KnowledgeBase, *, caller: Caller, files_in: list[tuple[str, bytes]], kind: Kind | None = None
) -> list[FileReport]:
    """Ingest uploaded files as the caller: their role and groups decide what each file may store or replace.

    Each file is its own transaction (one bad file never stops the batch), audited with its outcome.
    """
    require(caller.principal, Role.contributor)
    registry = default_registry()
    store = GuardedStore(kb.store, caller.principal)
    reports = [
        ingest_upload(
            store,
            name,
            data,
            registry=registry,
            max_file_bytes=kb.settings.max_file_bytes,
            kind=kind,
            budget=FileBudget.from_settings(kb.settings),
        )
        for name, data in files_in
    ]
    for report in reports:
        detail: dict[str, Any] = {"status": report.status.value, "documents": report.documents}
        if report.status is FileStatus.failed:
            detail["reason"] = report.reason
        counted(kb, report.status.value, report.documents or (1 if report.status is FileStatus.failed else 0))
        audit(kb, caller, "upload", report.path, **detail)
    indexed(kb)
    return reports


@dataclass(frozen=True)
class Ingested:
    """What an ingest stored (per file) and how many documents the indexes then took in."""

    report: IngestReport
    indexed: int


def ingest_files(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    paths: Sequence[Path],
    sync: bool = False,
    column_map: Mapping[str, str] | None = None,
    kind: Kind | None = None,
    follow_links: bool = False,
    index: bool = True,
    on_file: Callable[[FileReport], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Ingested:
    """Ingest files and folders on this machine (PMO admins: the paths are the server's), audited.

    Each file is stored in its own transaction as the batch goes; with
    ``index`` the indexes are caught up (and saved) even when the batch is
    interrupted (Ctrl-C, a SIGTERM turned into one), so what was stored is
    searchable when this returns or raises. Only a hard kill skips that; the
    next search or server start catches up from the change log.
    """
    require(caller.principal, Role.pmo_admin)
    done = 0
    try:
        report = ingest_paths(
            kb.store,
            paths,
            registry=default_registry(),
            max_file_bytes=kb.settings.max_file_bytes,
            sync=sync,
            on_file=on_file,
            column_map=column_map,
            kind=kind,
            follow_links=follow_links,
            budget=FileBudget.from_settings(kb.settings),
        )
        audit(kb, caller, "ingest", ", ".join(str(p) for p in paths), **report.summary())
    finally:
        if index:
            done = kb.catch_up(on_progress)
    return Ingested(report, done)


def demo_folder() -> Path:
    """The demo knowledge base shipped with the package."""
    return Path(str(files("ingest") / "demo_kb"))


def load_demo(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    index: bool = True,
    on_file: Callable[[FileReport], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Ingested:
    """Ingest (and sync) the demo knowledge base (PMO admins): the landing page's button and ``kb demo``."""
    return ingest_files(
        kb, caller=caller, paths=[demo_folder()], sync=True, index=index, on_file=on_file, on_progress=on_progress
    )
