"""Files that arrive over HTTP: checked and parsed in memory, never written to a path from the request.

The file name a browser sends is only used to pick the ingester (by extension)
and to name the source (``upload:<name>``, so uploading the same name again
updates those documents). It never becomes a filesystem path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from ingest.budget import FileBudget, open_parser
from ingest.options import make_options
from ingest.pipeline import FileReport, FileStatus, drop_detached, ingest_bytes
from ingest.registry import Container, IngesterRegistry
from kb.record.models import Kind
from kb.record.roles import ContainerWriter


def safe_filename(name: str) -> str:
    """The last path component of ``name`` with control and path characters removed (NFC, ≤ 200 chars)."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/")).split("/")[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .")
    return base[:200] or "upload"


def ingest_upload(
    store: ContainerWriter,
    filename: str,
    data: bytes,
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    kind: Kind | None = None,
    column_map: Mapping[str, str] | None = None,
    budget: FileBudget | None = None,
) -> list[FileReport]:
    """Ingest one uploaded file through the same path as files on disk; bad input is reported, never raised.

    The upload's report comes first, then one per attached file (a mail's
    attachments, sources ``upload:<name>#<attachment>``; see ``pipeline.ingest_bytes``), then one per attachment a
    changed mail no longer carries, removed (``pipeline.drop_detached``), as ``kb ingest`` removes them.

    With a ``budget`` the parse runs in a worker of its own (``ingest.budget``),
    so one hostile upload cannot tie up the web worker that received it.
    ``column_map`` is ``--map`` for an upload (the page's column mapping); a
    bad one raises ``InvalidInput`` before the file is read.
    """
    options = make_options(column_map, kind)
    name = safe_filename(filename)
    path = Path("/upload") / name  # never opened: its suffix picks the ingester
    ingester = registry.for_path(path)
    if ingester is None:
        reason = (
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(registry.extensions)}"
        )
        return [FileReport(name, FileStatus.failed, error=f"{name}: {reason}", reason=reason)]
    with open_parser(budget) as parser:
        reports = ingest_bytes(
            store,
            data,
            source=f"upload:{name}",
            path=path,
            ingester=ingester,
            registry=registry,
            max_file_bytes=max_file_bytes,
            options=options,
            label=name,
            parser=parser,
        )
    if isinstance(ingester, Container):  # a changed mail: the attachments it no longer carries go
        reports += drop_detached(store, f"upload:{name}", reports, label=name)
    return reports
