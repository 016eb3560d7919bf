"""The ingest pipeline: files in, documents stored, one report line per file.

Each file is read, checked and parsed completely before anything is written,
and its documents are written in one transaction, so a bad file fails alone and
never changes what is stored. The batch always goes on.

Every file gets a ``FileReport``; a failure carries the reason, the place in
the file where there is one (``line 4``, ``row 12, column 'date'``, ``page 3``)
and the full message naming the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from ingest.options import DEFAULT_OPTIONS, IngestOptions, make_options
from ingest.registry import Ingester, IngesterRegistry
from kb.errors import InvalidInput, KbError
from kb.models import Kind
from kb.store import Store


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
    """

    path: str
    status: FileStatus
    documents: int = 0
    error: str | None = None
    line: int | None = None
    place: str | None = None
    reason: str | None = None


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


def discover(paths: Iterable[Path], registry: IngesterRegistry) -> Iterator[tuple[Path, bool]]:
    """Files to ingest, in a stable order, each with whether the user named it directly.

    Hidden files and folders (``.git``, ``.DS_Store``) are passed over.
    """
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith((".", "~$")) for part in rel.parts):
                    yield child, False
        else:
            yield path, True


def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    sync: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
    column_map: Mapping[str, str] | None = None,
    kind: Kind | None = None,
) -> IngestReport:
    """Ingest files and folders; with ``sync``, also remove documents of files gone from those folders.

    ``column_map`` (spreadsheet/record column → field, as ``--map`` gives it) and
    ``kind`` apply to every file; a bad mapping raises ``InvalidInput`` before any file is read.
    """
    options = make_options(column_map, kind)
    report = IngestReport()
    paths = [p.resolve() for p in paths]
    seen: set[str] = set()
    for path, named in discover(paths, registry):
        seen.add(str(path))
        result = ingest_file(
            store, path, registry=registry, max_file_bytes=max_file_bytes, named=named, options=options
        )
        report.files.append(result)
        if on_file:
            on_file(result)
    if sync:
        for folder in (p for p in paths if p.is_dir()):
            for source in store.source_paths(under=str(folder)):
                if source not in seen:
                    removed = store.remove_source(source)
                    result = FileReport(source, FileStatus.removed, documents=len(removed.removed))
                    report.files.append(result)
                    if on_file:
                        on_file(result)
    return report


def ingest_file(
    store: Store,
    path: Path,
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    named: bool = True,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> FileReport:
    """Ingest one file; never raises for bad input, reports it instead."""
    source = str(path)
    ingester = registry.for_path(path)
    if ingester is None:
        reason = (
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(registry.extensions)}"
        )
        status = FileStatus.failed if named else FileStatus.skipped
        return FileReport(source, status, error=f"{source}: {reason}", reason=reason)
    try:
        if not path.is_file():
            raise InvalidInput("no such file", source=source)
        size = path.stat().st_size
        if size > max_file_bytes:  # checked before reading, so a huge file is never loaded
            raise InvalidInput(_too_big(size, max_file_bytes), source=source)
        data = path.read_bytes()
    except InvalidInput as exc:
        return _failed(source, exc)
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        return FileReport(source, FileStatus.failed, error=f"{source}: {reason}", reason=reason)
    return ingest_bytes(
        store, data, source=source, path=path, ingester=ingester, max_file_bytes=max_file_bytes, options=options
    )


def ingest_bytes(
    store: Store,
    data: bytes,
    *,
    source: str,
    path: Path,
    ingester: Ingester,
    max_file_bytes: int,
    options: IngestOptions = DEFAULT_OPTIONS,
    label: str | None = None,
) -> FileReport:
    """Ingest one file's bytes as ``source`` (files and uploads alike); bad input is reported, never raised.

    The no-op check hashes the bytes together with the options, so the same
    file ingested with another ``--map`` or ``--kind`` is parsed again.
    ``label`` names the file in the report (default: ``source``).
    """
    label = label or source
    try:
        if len(data) > max_file_bytes:
            raise InvalidInput(_too_big(len(data), max_file_bytes), source=label)
        if not data:
            raise InvalidInput("file is empty (0 bytes)", source=label)
        content_hash = hashlib.sha256(data + options.fingerprint()).hexdigest()
        previous = store.source_hash(source)
        if previous == content_hash:
            return FileReport(label, FileStatus.unchanged)
        drafts = ingester.parse(path, data, source=source, options=options)
        store.replace_source(source, content_hash, drafts)
    except InvalidInput as exc:
        return _failed(label, exc)
    except KbError as exc:
        return FileReport(label, FileStatus.failed, error=f"{label}: {exc.message}", reason=exc.message)
    status = FileStatus.added if previous is None else FileStatus.updated
    return FileReport(label, status, documents=len(drafts))


def _too_big(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over the limit of {limit:,} (setting KB_MAX_FILE_BYTES)"


def _failed(label: str, exc: InvalidInput) -> FileReport:
    return FileReport(label, FileStatus.failed, error=exc.message, line=exc.line, place=exc.place, reason=exc.reason)
