"""The ingest pipeline: files in, documents stored, one report line per file.

Each file is read, checked and parsed completely before anything is written,
and its documents are written in one transaction, so a bad file fails alone and
never changes what is stored. The batch always goes on. Given a ``FileBudget``,
each file's parse runs in a worker under a time and memory budget
(``ingest.budget``), so even a file built to hang or exhaust a parser fails alone;
the write stays here, so a stopped parse never leaves anything half-stored.

Every file gets a ``FileReport``; a failure carries the reason, the place in
the file where there is one (``line 4``, ``row 12, column 'date'``, ``page 3``)
and the full message naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from ingest.budget import IN_PROCESS, FileBudget, Parser, open_parser
from ingest.columns import UnrecognisedColumns
from ingest.options import DEFAULT_OPTIONS, IngestOptions, make_options
from ingest.registry import Container, Ingester, IngesterRegistry
from ingest.versions import keep_versions
from ingest.walk import Found, discover, read_found, too_big
from kb.errors import Forbidden, InvalidInput, KbError
from kb.record.models import Kind
from kb.record.roles import ContainerWriter, SourceStore, SourceWriter
from kb.record.store import document_id

MAX_ATTACHMENT_DEPTH = 1  # a mail attached to a mail has its attachments read; one attached deeper is stored alone


class FileStatus(StrEnum):
    added = "added"
    updated = "updated"
    unchanged = "unchanged"
    removed = "removed"
    failed = "failed"
    skipped = "skipped"


@dataclass
class FileReport:
    """What happened to one file.

    For a failure, ``error`` is the whole message (file, place, reason);
    ``place`` and ``reason`` are its parts for programs reading the JSON report.
    ``doc_ids`` are the documents the file now makes (added or updated), so a
    page can link them; ``preview`` holds the first rows of a spreadsheet whose
    columns were not recognised (``columns.UnrecognisedColumns``), to map them.
    A file attached to another (a mail's attachment) has its own report, its
    ``path`` the container's and its name (``mail.eml#plan.xlsx``), and
    ``within`` naming the container.
    """

    path: str
    status: FileStatus
    documents: int = 0
    error: str | None = None
    line: int | None = None
    place: str | None = None
    reason: str | None = None
    doc_ids: list[str] = field(default_factory=list)
    preview: list[list[str]] | None = None
    within: str | None = None


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status is status)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status is FileStatus.failed]

    def summary(self) -> dict[str, int]:
        return {s.value: self.count(s) for s in FileStatus}

    def as_json(self) -> dict[str, object]:
        return {"summary": self.summary(), "files": [asdict(f) for f in self.files]}


def ingest_paths(
    store: SourceStore,
    paths: Iterable[Path],
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    sync: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
    column_map: Mapping[str, str] | None = None,
    kind: Kind | None = None,
    follow_links: bool = False,
    budget: FileBudget | None = None,
) -> IngestReport:
    """Ingest files and folders; with ``sync``, also remove documents of files gone from those folders.

    ``column_map`` (spreadsheet/record column → field, as ``--map`` gives it) and
    ``kind`` apply to every file; a bad mapping raises ``InvalidInput`` before any file is read.
    Symbolic links in folders are refused unless ``follow_links``, and never
    followed out of the folder (``ingest.walk``). Without a ``budget`` files are
    parsed in this process: for tests and trusted input only.
    """
    options = make_options(column_map, kind)
    report = IngestReport()
    paths = list(paths)
    seen: set[str] = set()
    with open_parser(budget) as parser:
        for found in discover(paths, follow_links=follow_links):
            seen.add(str(found.path))
            results = ingest_file(
                store, found, registry=registry, max_file_bytes=max_file_bytes, options=options, parser=parser
            )
            if isinstance(registry.for_path(found.path), Container):
                results += drop_detached(store, str(found.path), results)
            for result in results:
                report.files.append(result)
                if on_file:
                    on_file(result)
    if sync:
        for folder in (p.resolve() for p in paths if p.is_dir()):
            for source in store.source_paths(under=str(folder)):
                if source not in seen and not _attached_to(source, seen):
                    removed = store.remove_source(source)
                    result = FileReport(source, FileStatus.removed, documents=len(removed.removed))
                    report.files.append(result)
                    if on_file:
                        on_file(result)
    return report


def _attached_to(source: str, files: set[str]) -> bool:
    """Whether ``source`` is a file attached to one of ``files`` (``mail.eml#plan.xlsx``, at any depth)."""
    return any(source[:i] in files for i, char in enumerate(source) if char == "#")


def drop_detached(
    store: ContainerWriter, source: str, results: list[FileReport], *, label: str | None = None
) -> list[FileReport]:
    """Remove the stored attachments of a changed container that it no longer carries; report each removed.

    ``results`` are ``ingest_bytes``' reports for ``source``, named from ``label``
    (an upload's reports name the file, ``plan.eml#a.xlsx``, not its source key).
    Only a container that was read again (added or updated) has a full list of
    what it carries now.
    """
    if results[0].status not in (FileStatus.added, FileStatus.updated):
        return []
    label = label or source
    current = {source + r.path[len(label) :] for r in results if r.path.startswith(label + "#")}
    removed = []
    for old in store.attached_sources(source):
        if old not in current:
            shown = label + old[len(source) :]
            try:
                gone = len(store.remove_source(old).removed)
            except Forbidden as exc:  # someone else's file of that name: theirs to remove
                removed.append(FileReport(shown, FileStatus.skipped, reason=str(exc), within=label))
                continue
            removed.append(FileReport(shown, FileStatus.removed, documents=gone, within=label))
    return removed


def ingest_file(
    store: SourceWriter,
    found: Found,
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    options: IngestOptions = DEFAULT_OPTIONS,
    parser: Parser = IN_PROCESS,
) -> list[FileReport]:
    """Ingest one file found by ``discover``; never raises for bad input, reports it instead.

    Everything is named by ``found.path`` (for a link, the link, never its target). The
    file's report comes first, then one per file attached to it (``ingest_bytes``).
    """
    path = found.path
    source = str(path)
    if found.refused:
        return [_failed(source, InvalidInput(found.refused, source=source))]
    ingester = registry.for_path(path)
    if ingester is None:
        reason = (
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(registry.extensions)}"
        )
        status = FileStatus.failed if found.named else FileStatus.skipped
        return [FileReport(source, status, error=f"{source}: {reason}", reason=reason)]
    try:
        data = read_found(found, max_file_bytes=max_file_bytes)
    except InvalidInput as exc:
        return [_failed(source, exc)]
    return ingest_bytes(
        store,
        data,
        source=source,
        path=path,
        ingester=ingester,
        registry=registry,
        max_file_bytes=max_file_bytes,
        options=options,
        parser=parser,
    )


def ingest_bytes(
    store: SourceWriter,
    data: bytes,
    *,
    source: str,
    path: Path,
    ingester: Ingester,
    registry: IngesterRegistry,
    max_file_bytes: int,
    options: IngestOptions = DEFAULT_OPTIONS,
    label: str | None = None,
    parser: Parser = IN_PROCESS,
    depth: int = 0,
) -> list[FileReport]:
    """Ingest one file's bytes as ``source`` (files and uploads alike), then the files attached to it.

    Bad input is reported, never raised. The no-op check hashes the bytes
    together with the options, so the same file ingested with another ``--map``
    or ``--kind`` is parsed again. ``label`` names the file in the report
    (default: ``source``).

    The file's own report comes first. When it is a container (a mail,
    ``registry.Container``) each attached file follows as a source of its own,
    ``<source>#<name>``, through this same function: the same size limit, parse
    budget and package checks as a file on disk, and ingesting the mail again
    updates its attachments rather than adding them twice. One that fails is
    reported alone; the message and the other attachments are stored. An
    unchanged mail is not opened again. Attachments are read in memory only,
    never written to disk.
    """
    label = label or source
    report, opened = _ingest_one(
        store, data, source=source, path=path, ingester=ingester, max_file_bytes=max_file_bytes, options=options,
        label=label, parser=parser, changed_only=depth == 0,
    )  # fmt: skip
    if not opened or not isinstance(ingester, Container) or depth > MAX_ATTACHMENT_DEPTH:
        return [report]
    try:
        files = parser.unpack(ingester, path, data, source=source)
    except InvalidInput as exc:  # when the message itself failed, it already said why
        return [report] if report.status is FileStatus.failed else [report, _failed(label, exc)]
    reports = [report]
    for name, content in files:
        inner = path.parent / name
        inner_ingester = registry.for_path(inner)
        if inner_ingester is None:
            reason = f"unsupported file type {inner.suffix or '(no extension)'!r}, not read"
            reports.append(FileReport(f"{label}#{name}", FileStatus.skipped, reason=reason, within=label))
            continue
        attached = ingest_bytes(
            store, content, source=f"{source}#{name}", path=inner, ingester=inner_ingester, registry=registry,
            max_file_bytes=max_file_bytes, options=options, label=f"{label}#{name}", parser=parser, depth=depth + 1,
        )  # fmt: skip
        attached[0].within = label
        reports += attached
    return reports


def _ingest_one(
    store: SourceWriter,
    data: bytes,
    *,
    source: str,
    path: Path,
    ingester: Ingester,
    max_file_bytes: int,
    options: IngestOptions,
    label: str,
    parser: Parser,
    changed_only: bool,
) -> tuple[FileReport, bool]:
    """The file's own documents stored; and whether its bytes may be opened for what is attached to them.

    They may unless they are over the size limit or empty, or unchanged and ``changed_only``.
    """
    try:
        if len(data) > max_file_bytes:
            raise InvalidInput(too_big(len(data), max_file_bytes), source=label)
        if not data:
            raise InvalidInput("file is empty (0 bytes)", source=label)
    except InvalidInput as exc:
        return _failed(label, exc), False
    try:
        content_hash = hashlib.sha256(data + options.fingerprint()).hexdigest()
        previous = store.source_hash(source)
        if previous == content_hash:
            return FileReport(label, FileStatus.unchanged), not changed_only
        drafts = parser.parse(ingester, path, data, source=source, options=options)
        if previous is not None:  # a changed standard file is its next version (``ingest.versions``)
            drafts = keep_versions(store.documents_of_source(source), drafts)
        store.replace_source(source, content_hash, drafts)
    except InvalidInput as exc:
        return _failed(label, exc), True
    except KbError as exc:
        return FileReport(label, FileStatus.failed, error=f"{label}: {exc.message}", reason=exc.message), True
    status = FileStatus.added if previous is None else FileStatus.updated
    ids = [document_id(source, d.key) for d in drafts]
    return FileReport(label, status, documents=len(drafts), doc_ids=ids), True


def _failed(label: str, exc: InvalidInput) -> FileReport:
    preview = exc.rows if isinstance(exc, UnrecognisedColumns) else None
    return FileReport(
        label, FileStatus.failed, error=exc.message, line=exc.line, place=exc.place, reason=exc.reason, preview=preview
    )
