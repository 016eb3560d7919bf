"""Files that arrive over HTTP: checked and parsed in memory, never written to a path from the request.

The file name a browser sends is only used to pick the ingester (by extension)
and to name the source (``upload:<name>``, so uploading the same name again
updates those documents). It never becomes a filesystem path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from ingest.pipeline import FileReport, FileStatus
from ingest.registry import IngesterRegistry
from kb.errors import InvalidInput, KbError
from kb.models import Kind
from kb.store import Store

# Folder names the Markdown ingester reads as kinds (see ingest.markdown.FOLDER_KINDS).
KIND_FOLDERS = {kind: f"{kind.value}s" for kind in Kind}


def safe_filename(name: str) -> str:
    """The last path component of ``name`` with control and path characters removed (NFC, ≤ 200 chars)."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/")).split("/")[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .")
    return base[:200] or "upload"


def ingest_upload(
    store: Store,
    filename: str,
    data: bytes,
    *,
    registry: IngesterRegistry,
    max_file_bytes: int,
    kind: Kind | None = None,
) -> FileReport:
    """Ingest one uploaded file; bad input is reported, never raised."""
    name = safe_filename(filename)
    source = f"upload:{name}"
    # A virtual path: its folder carries the kind hint, its suffix picks the ingester.
    path = Path("/upload") / (KIND_FOLDERS[kind] if kind else "files") / name  # never opened
    ingester = registry.for_path(path)
    if ingester is None:
        reason = (
            f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(registry.extensions)}"
        )
        return FileReport(name, FileStatus.failed, error=f"{name}: {reason}")
    try:
        if len(data) > max_file_bytes:
            raise InvalidInput(
                f"file is {len(data):,} bytes, over the limit of {max_file_bytes:,} (setting KB_MAX_FILE_BYTES)",
                source=name,
            )
        content_hash = hashlib.sha256(data).hexdigest()
        previous = store.source_hash(source)
        if previous == content_hash:
            return FileReport(name, FileStatus.unchanged)
        # The store's source name, so ids derived inside the ingester (a lesson's parent) match.
        drafts = ingester.parse(path, data, source=source)
        store.replace_source(source, content_hash, drafts)
    except InvalidInput as exc:
        return FileReport(name, FileStatus.failed, error=exc.message, line=exc.line)
    except KbError as exc:
        return FileReport(name, FileStatus.failed, error=f"{name}: {exc.message}")
    return FileReport(name, FileStatus.added if previous is None else FileStatus.updated, documents=len(drafts))
