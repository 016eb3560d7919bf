"""Bringing knowledge in: the retrospective form, uploads, the demo knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from app import documents, held
from app.caller import Caller
from app.effects import audit, counted, indexed
from ingest.budget import FileBudget
from ingest.columns import FIELD_NAMES, columns, likely_header
from ingest.forms import RetrospectiveEntry, retrospective_drafts
from ingest.pipeline import FileReport, FileStatus, IngestReport, ingest_paths
from ingest.registry import default_registry
from ingest.uploads import ingest_upload, safe_filename
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
    kb: KnowledgeBase,
    *,
    caller: Caller,
    files_in: list[tuple[str, bytes]],
    kind: Kind | None = None,
    column_map: Mapping[str, str] | None = None,
) -> list[FileReport]:
    """Ingest uploaded files as the caller: their role and groups decide what each file may store or replace.

    Each file is its own transaction (one bad file never stops the batch), audited with its outcome; a mail's
    attachments are files of their own here, each with its report.
    ``column_map`` (column → field, what ``kb ingest --map`` takes) applies to every file.
    """
    require(caller.principal, Role.contributor)
    registry = default_registry()
    store = GuardedStore(kb.store, caller.principal)
    reports = [
        report
        for name, data in files_in
        for report in ingest_upload(
            store,
            name,
            data,
            registry=registry,
            max_file_bytes=kb.settings.max_file_bytes,
            kind=kind,
            column_map=column_map,
            budget=FileBudget.from_settings(kb.settings),
        )
    ]
    for report in reports:
        detail: dict[str, Any] = {"status": report.status.value, "documents": report.documents}
        if column_map:
            detail["columns"] = ", ".join(f"{c}={f}" for c, f in column_map.items())
        if report.status is FileStatus.failed:
            detail["reason"] = report.reason
        counted(kb, report.status.value, report.documents or (1 if report.status is FileStatus.failed else 0))
        audit(kb, caller, "upload", report.path, **detail)
    indexed(kb)
    return reports


def formats() -> list[tuple[str, tuple[str, ...]]]:
    """The file formats an upload accepts, each with its extensions, from the ingest registry itself."""
    return default_registry().formats()


FIELDS = FIELD_NAMES
"""What a column can be mapped to on the upload page: the targets ``--map`` knows."""

LINKED = 20  # documents linked per file on the upload page; a register's other rows are a search away


@dataclass(frozen=True)
class MappingOffer:
    """A spreadsheet whose columns were not recognised, held under ``token`` for the mapping step.

    ``header`` is the row a person would call the header (``columns.likely_header``),
    ``rows`` a few rows under it, both padded to one width; ``suggested`` is the
    field each column's name already means (``meta``, kept as extra information,
    when none; ``""`` for a column without a name, which is left out).
    """

    token: str
    filename: str
    header: list[str]
    rows: list[list[str]]
    suggested: list[str]


@dataclass(frozen=True)
class Uploaded:
    """What an upload from the browser did: a report per file, offers to map columns, titles to link."""

    reports: list[FileReport]
    offers: list[MappingOffer]
    titles: dict[str, str]


def upload_files(
    kb: KnowledgeBase, *, caller: Caller, files_in: list[tuple[str, bytes]], kind: Kind | None = None
) -> Uploaded:
    """``upload``, then: the created documents' titles, and a mapping offer for each sheet without a known header.

    The file of an offer is held on the server (``app.held``) so the mapping
    step sends only a token and the fields, never the file or a path.
    """
    reports = upload(kb, caller=caller, files_in=files_in, kind=kind)
    offers = []
    for report in reports:
        if report.preview is not None and (offer := _offer(report, None)) is not None:
            raw = next(d for n, d in files_in if safe_filename(n) == report.path)
            token = held.hold(kb, caller=caller, name=report.path, data=raw)
            offers.append(replace(offer, token=token))
    return Uploaded(reports, offers, _titles(kb, caller=caller, reports=reports))


def upload_mapped(
    kb: KnowledgeBase, *, caller: Caller, token: str, column_map: Mapping[str, str], kind: Kind | None = None
) -> Uploaded:
    """Ingest a held spreadsheet again with the columns mapped to fields (the upload page's second step).

    A mapping that still finds no header offers the same file again; once the
    file is stored it is no longer held.
    """
    require(caller.principal, Role.contributor)
    kept = held.take(kb, caller=caller, token=token)
    chosen = {column: field for column, field in column_map.items() if field}
    reports = upload(kb, caller=caller, files_in=[(kept.name, kept.data)], kind=kind, column_map=chosen)
    offers = [o for r in reports if r.preview is not None and (o := _offer(r, token)) is not None]
    if not offers and all(r.status is not FileStatus.failed for r in reports):
        held.release(kb, token=token)
    return Uploaded(reports, offers, _titles(kb, caller=caller, reports=reports))


def _offer(report: FileReport, token: str | None) -> MappingOffer | None:
    rows = report.preview or []
    at = likely_header(rows)
    if at is None:
        return None
    width = max(len(row) for row in rows[at:])
    header = [*rows[at], *[""] * (width - len(rows[at]))]
    below = [[*row, *[""] * (width - len(row))] for row in rows[at + 1 :] if any(c.strip() for c in row)][:5]
    by_index = {c.index: c.target for c in columns(header, {})}
    suggested = [by_index.get(i, "") for i in range(width)]
    return MappingOffer(token or "", report.path, header, below, suggested)


def _titles(kb: KnowledgeBase, *, caller: Caller, reports: list[FileReport]) -> dict[str, str]:
    wanted = [doc_id for report in reports for doc_id in report.doc_ids[:LINKED]]
    return {d.id: d.title for d in documents.many(kb, caller=caller, doc_ids=wanted)}


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
