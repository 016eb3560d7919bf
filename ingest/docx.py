"""Word documents (.docx): procedures, templates, lessons and FAQs written in Word.

The document becomes Markdown that keeps its structure: heading styles
(``Heading 1``…, ``見出し 1``…, or an outline level) become ``#`` headings,
list styles become list items and tables become Markdown tables. That
Markdown then goes through the same rules as a Markdown file
(``markdown.document_drafts``), so a Word lesson with 事象/教訓/提言 headings
fills those fields and a Word FAQ splits at its questions.

The title is the document's Title property, else a first paragraph in the
``Title`` style, else a first heading that is the only one of its level; the
remaining headings are shifted so the
top level is ``##``, as sections of a Markdown document are. A template or
procedure keeps the .docx as its downloadable original.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.kinds import kind_from_names, require_kind
from ingest.markdown import document_drafts
from ingest.markup import escape_text, table_markdown
from ingest.office import check_package
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.values import split_tags
from ingest.versions import standard_title
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, OriginalFile

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HEADING_STYLE = re.compile(r"^(?:heading|見出し)\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^list (bullet|number|paragraph|continue)(?: (\d))?$", re.I)


@dataclass
class _Blocks:
    """Markdown blocks with the paragraph each started at (1-based, tables counted as one)."""

    title: str | None = None
    blocks: list[tuple[str, int]] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)


class DocxIngester:
    """``.docx`` files of any kind; the kind comes from the Category property, ``--kind``, the folder,
    or the file name or title."""

    format: str = "word"
    extensions: tuple[str, ...] = (".docx",)

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        check_package(data, source=source, suffix=".docx")
        try:
            document = docx.Document(io.BytesIO(data))
            props = document.core_properties
            read = _read(document)
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:  # lxml's too
            raise InvalidInput(f"not a readable .docx document: {exc}", source=source) from None
        if not read.blocks:
            raise InvalidInput("the document has no text (only empty paragraphs, or images)", source=source)
        fields: dict[str, Any] = {"title": (props.title or "").strip() or read.title or _stem(path)}
        kind = require_kind(
            path, kind_from_names([props.category or ""]), options.kind, source=source, title=fields["title"]
        )
        fields.update(standard_title(kind, fields["title"], path=path))
        body, lines = _markdown(read)
        if props.keywords:
            fields["tags"] = split_tags(props.keywords)
        meta = {k: v for k, v in (("author", props.author), ("subject", props.subject)) if v and v != "python-docx"}
        original = OriginalFile(filename=path.name, media_type=DOCX_MEDIA_TYPE, data=data)
        try:
            return document_drafts(path, body, kind=kind, fields=fields, meta=meta, source=source, original=original)
        except InvalidInput as exc:
            if exc.line is None:
                raise
            paragraph = lines[min(exc.line, len(lines)) - 1]
            raise InvalidInput(exc.reason, source=source, place=f"paragraph {paragraph}") from None


def _read(document: Any) -> _Blocks:
    out = _Blocks()
    number = 0
    for item in document.iter_inner_content():
        number += 1
        if isinstance(item, Table):
            rows = [_row_texts(row) for row in item.rows]
            table = table_markdown(rows)
            if table:
                out.blocks.append((table, number))
                out.levels.append(0)
            continue
        assert isinstance(item, Paragraph)
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = _heading_level(item, style)
        if out.title is None and not out.blocks and style.lower() == "title":
            out.title = " ".join(text.split())
            continue
        if level:
            out.blocks.append((" ".join(text.split()), number))
            out.levels.append(level)
        else:
            out.blocks.append((_list_prefix(item, style) + escape_text(text), number))
            out.levels.append(0)
    if out.title is None and out.levels and out.levels[0] == 1 and out.levels.count(1) == 1:
        out.title = out.blocks.pop(0)[0]  # a lone top heading opening the document is its title
        out.levels.pop(0)
    return out


def _markdown(read: _Blocks) -> tuple[str, list[int]]:
    """The body and, per Markdown line, the paragraph it came from; headings shifted so the top one is ``##``."""
    top = min((lv for lv in read.levels if lv), default=2)
    shift = max(0, 2 - top)
    lines: list[int] = []
    parts: list[str] = []
    previous_list = False
    for (text, number), level in zip(read.blocks, read.levels, strict=True):
        is_list = text.startswith(("- ", "1. ", "  "))
        if level:
            text = "#" * min(6, level + shift) + " " + escape_text(text)
        sep = "\n" if previous_list and is_list else "\n\n"
        if parts:
            parts.append(sep)
            lines.extend([number] * (sep.count("\n") - 1))
        parts.append(text)
        lines.extend([number] * (text.count("\n") + 1))
        previous_list = is_list
    return "".join(parts), lines


def _heading_level(paragraph: Paragraph, style: str) -> int:
    if match := _HEADING_STYLE.match(style.strip()):
        return int(match.group(1)) or 1
    ppr = paragraph._p.pPr
    outline = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if outline is not None:
        value = outline.get(qn("w:val"))
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 1
    return 0


def _list_prefix(paragraph: Paragraph, style: str) -> str:
    match = _LIST_STYLE.match(style.strip())
    ppr = paragraph._p.pPr
    numbering = ppr.find(qn("w:numPr")) if ppr is not None else None
    if not match and numbering is None:
        return ""
    depth = int(match.group(2)) - 1 if match and match.group(2) else 0
    level = numbering.find(qn("w:ilvl")) if numbering is not None else None
    if level is not None and str(level.get(qn("w:val"), "")).isdigit():
        depth = int(str(level.get(qn("w:val"))))
    marker = "1. " if match and match.group(1).lower() == "number" else "- "
    return "  " * depth + marker


def _row_texts(row: Any) -> list[str]:
    """Cell texts of a row, a cell merged across columns given once."""
    texts: list[str] = []
    previous = None
    for cell in row.cells:
        if previous is not None and cell._tc is previous:
            continue
        previous = cell._tc
        texts.append(cell.text)
    return texts


def _stem(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ")
