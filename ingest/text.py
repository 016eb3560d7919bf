"""Plain text files (.txt): notes, procedures and lessons kept as text.

The text is decoded like every other text file (``reading.decode_text``), made
safe to store as Markdown (no raw HTML) and then read by the same rules as a
Markdown body, so ``事象: …`` / ``教訓: …`` labels in a lesson note fill its
fields. The title is the first line when it is short, else the file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.kinds import require_kind
from ingest.markdown import document_drafts
from ingest.markup import escape_text, tidy
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.reading import decode_text
from kb.record.models import DocumentDraft

TITLE_CHARS = 120


class TextIngester:
    """``.txt`` files of any kind; the kind comes from ``--kind``, the folder, or the file name or title."""

    format: str = "text"
    extensions: tuple[str, ...] = (".txt", ".text")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        text = tidy(decode_text(data, source=source).lstrip("\ufeff"))
        first, _, rest = text.partition("\n")
        kind = require_kind(path, options.kind, source=source, title=first.strip()[:TITLE_CHARS])
        fields: dict[str, Any] = {}
        if first.strip() and len(first.strip()) <= TITLE_CHARS and rest.strip():
            fields["title"] = first.strip().lstrip("#").strip()
            text = rest
        return document_drafts(path, escape_text(text), kind=kind, fields=fields, meta={}, source=source)
