"""A whole office file as one document: how templates and procedures are published.

A template workbook or deck is not a register of rows or a set of lessons: it
is the thing a project copies. So when its kind is template or procedure it
becomes one document whose body is all of its text, each sheet or slide under
a heading that says which (``kb.search.location.part_heading``), with the file
itself kept for download byte for byte. The title comes from the document
properties, else the file name, with a version in it (``_v2``, ``第2版``) read
out into the version field (``ingest.versions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.kinds import kind_from_names, kind_from_path, kind_from_words
from ingest.markdown import document_drafts
from ingest.options import IngestOptions
from ingest.values import split_tags
from ingest.versions import STANDARD_KINDS, name_title, standard_title
from kb.record.models import DocumentDraft, Kind, OriginalFile


def file_title(declared: str | None, path: Path) -> str:
    """The declared title, else the file name."""
    return " ".join((declared or "").split()) or name_title(path)


def named_kind(path: Path, *, category: str | None, title: str) -> Kind | None:
    """The kind the file names itself: its Category property, its folder, a kind word in its name or title.

    ``--kind`` is not among them: it is the batch's default, and a register's
    columns (lessons, Q/A) still win over it, as they do for CSV.
    """
    return (
        kind_from_names([category or ""])
        or kind_from_path(path)
        or kind_from_words(path.stem)
        or kind_from_words(title)
    )


def standard_kind(path: Path, *, category: str | None, title: str, options: IngestOptions) -> Kind | None:
    """Template or procedure when the file or ``--kind`` says so, else ``None``."""
    kind = named_kind(path, category=category, title=title)
    if kind is None:
        kind = options.kind
    return kind if kind in STANDARD_KINDS else None


def file_drafts(
    path: Path,
    body: str,
    *,
    kind: Kind,
    title: str,
    media_type: str,
    data: bytes,
    source: str,
    meta: dict[str, Any],
    keywords: str | None = None,
) -> list[DocumentDraft]:
    """The drafts of a file whose Markdown ``body`` is built; a template or procedure keeps ``data`` as its original.

    Lessons, retrospectives and FAQs go through the same rules as Markdown
    (``markdown.document_drafts``), so a retrospective deck splits into lessons.
    """
    fields: dict[str, Any] = standard_title(kind, title, path=path)
    if keywords:
        fields["tags"] = split_tags(keywords)
    original = OriginalFile(filename=path.name, media_type=media_type, data=data)
    return document_drafts(path, body, kind=kind, fields=fields, meta=meta, source=source, original=original)
