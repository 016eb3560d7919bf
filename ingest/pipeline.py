"""The ingest pipeline: files in, documents stored, one report line per file.

Each file is read, checked and parsed completely before anything is written,
and its documents are written in one transaction, so a bad file fails alone and
never changes what is stored. The batch always goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from ingest.registry import IngesterRegistry
from kb.errors import InvalidInput, KbError
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
    """What happened to one file. ``error`` names the place and the reason for failures."""

    path: str
    status: FileStatus
    documents: int = 0
    error: str | None = None
    line: int | None = None


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
) -> IngestReport:
    """Ingest files and folders; with ``sync``, also remove documents of files gone from those folders."""
    report = IngestReport()
    paths = [p.resolve() for p in paths]
    seen: set[str] = set()
    for path, named in discover(paths, registry):
        seen.add(str(path))
        result = ingest_file(store, path, registry=registry, max_file_bytes=max_file_bytes, named=named)
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
    store: Store, path: Path, *, registry: IngesterRegistry, max_file_bytes: int, named: bool = True
) -> FileReport:
    """Ingest one file; never raises for bad input, reports it instead."""
    source = str(path)
    ingester = registry.for_path(path)
    if ingester is None:
        reason = (
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(registry.extensions)}"
        )
        return FileReport(source, FileStatus.failed if named else FileStatus.skipped, error=reason)
    try:
        if not path.is_file():
            raise InvalidInput("no such file", source=source)
        size = path.stat().st_size
        if size > max_file_bytes:
            raise InvalidInput(
                f"file is {size:,} bytes, over the limit of {max_file_bytes:,} (setting KB_MAX_FILE_BYTES)",
                source=source,
            )
        data = path.read_bytes()
        content_hash = hashlib.sha256(data).hexdigest()
        previous = store.source_hash(source)
        if previous == content_hash:
            return FileReport(source, FileStatus.unchanged)
        drafts = ingester.parse(path, data, source=source)
        store.replace_source(source, content_hash, drafts)
    except InvalidInput as exc:
        return FileReport(source, FileStatus.failed, error=exc.message, line=exc.line)
    except KbError as exc:
        return FileReport(source, FileStatus.failed, error=f"{source}: {exc.message}")
    except OSError as exc:
        return FileReport(source, FileStatus.failed, error=f"{source}: cannot read: {exc.strerror or exc}")
    status = FileStatus.added if previous is None else FileStatus.updated
    return FileReport(source, status, documents=len(drafts))
