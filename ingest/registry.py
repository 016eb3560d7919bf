"""The ``Ingester`` protocol and the registry that picks one by file extension."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from ingest.docx import DocxIngester
from ingest.html import HtmlIngester
from ingest.legacy import LegacyOfficeIngester
from ingest.mail import MailIngester
from ingest.markdown import MarkdownIngester
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.pdf import PdfIngester
from ingest.records import RecordsIngester
from ingest.slides import PptxIngester
from ingest.spreadsheet import SpreadsheetIngester
from ingest.text import TextIngester
from kb.record.models import DocumentDraft


class Ingester(Protocol):
    """Turns one file's bytes into document drafts, or raises ``InvalidInput`` naming the place.

    ``options`` carry what the user said for the whole batch (``--map``,
    ``--kind``); an ingester uses what applies to its format and ignores the rest.
    ``format`` names the format for people: the upload page lists each one by
    it (``format_<name>`` in ``web/i18n.py`` says what such a file becomes).
    """

    format: str
    extensions: tuple[str, ...]

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]: ...


Attached = tuple[str, bytes]
"""A file inside another (a mail's attachment): its name, unique within the container, and its bytes."""


@runtime_checkable
class Container(Protocol):
    """An ingester whose files carry other files (mail and its attachments).

    The pipeline stores each attached file as a source of its own, named
    ``<container source>#<name>`` and read by the ingester for its name, as if it
    had been ingested next to the container; ``parse`` reads the container's own text.
    """

    def attachments(self, path: Path, data: bytes, *, source: str) -> list[Attached]: ...


class IngesterRegistry:
    """Maps lower-case file extensions to ingesters."""

    def __init__(self, ingesters: list[Ingester]) -> None:
        self._by_ext = {ext: ing for ing in ingesters for ext in ing.extensions}

    @property
    def extensions(self) -> list[str]:
        return sorted(self._by_ext)

    def formats(self) -> list[tuple[str, tuple[str, ...]]]:
        """(format, its extensions) per ingester, in the registry's order: what the upload page lists."""
        listed: dict[str, list[str]] = {}
        for ext, ingester in self._by_ext.items():
            listed.setdefault(ingester.format, []).append(ext)
        return [(name, tuple(exts)) for name, exts in listed.items()]

    def for_path(self, path: Path) -> Ingester | None:
        return self._by_ext.get(path.suffix.lower())


def default_registry() -> IngesterRegistry:
    """Every ingester the product ships."""
    return IngesterRegistry(
        [
            MarkdownIngester(),
            SpreadsheetIngester(),
            RecordsIngester(),
            DocxIngester(),
            PdfIngester(),
            PptxIngester(),
            HtmlIngester(),
            TextIngester(),
            MailIngester(),
            LegacyOfficeIngester(),
        ]
    )
