"""PowerPoint decks (.pptx): templates, procedures and retrospectives written as slides.

Slides are read in order. Each slide's title is its heading; its other shapes
are read top to bottom, left to right (the order people read a slide in, which
is not always the order shapes were added): text frames as paragraphs or list
items by indent level, tables as Markdown tables, and groups opened up, so text
inside a grouped diagram is found too. Speaker notes follow the slide's text.

What the deck becomes depends on its kind, as for Word:

- a template or procedure is one document with a ``## スライド 7: …`` /
  ``## Slide 7: …`` heading per slide (``kb.search.location``), so search can
  say which slide matched, and the .pptx kept for download;
- a retrospective's slide titles are plain level-2 headings, so a deck with
  事象 / 教訓 / 提言 slides (or What went wrong / Lessons / Recommendations)
  splits into one lesson per lesson exactly as a Markdown retrospective does;
  speaker notes are left out there, as they would otherwise read as lessons;
- a lesson or an FAQ deck is read by the Markdown rules the same way.

The package is checked before python-pptx opens it (``ingest.office``): an
encrypted deck, a binary .ppt renamed, a damaged zip and a zip bomb each fail
with their own message.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.exc import PackageNotFoundError, PythonPptxError

from ingest.filedoc import file_drafts, file_title
from ingest.kinds import kind_from_names, require_kind
from ingest.markup import escape_text, table_markdown
from ingest.office import check_package
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.workbook import plain_line
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind
from kb.search.language import detect_language
from kb.search.location import part_heading

PPTX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE)
_NOTES_WORD = {"ja": "ノート", "en": "Notes"}
# Groups nest; a real deck goes a few levels deep, a hostile one thousands.
MAX_GROUP_DEPTH = 32


class Slide:
    """One slide as read: its number, title, Markdown blocks and speaker notes."""

    def __init__(self, number: int, title: str, blocks: list[str], notes: str) -> None:
        self.number, self.title, self.blocks, self.notes = number, title, blocks, notes


class PptxIngester:
    """``.pptx`` decks of any kind; the kind comes from the Category property, ``--kind``, the folder,
    or the file name or title."""

    format: str = "powerpoint"
    extensions: tuple[str, ...] = (".pptx",)

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        check_package(data, source=source, suffix=".pptx")
        try:
            deck = Presentation(io.BytesIO(data))
            props = deck.core_properties
            slides = [_read_slide(n, s, source) for n, s in enumerate(deck.slides, start=1)]
        except (PackageNotFoundError, PythonPptxError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
            raise InvalidInput(f"not a readable .pptx deck: {exc}", source=source) from None
        if not any(s.title or s.blocks or s.notes for s in slides):
            raise InvalidInput("the deck has no text (no titles, text boxes, tables or notes)", source=source)
        declared = (props.title or "").strip() or next((s.title for s in slides if s.title), "")
        title = file_title(declared, path)
        kind = require_kind(path, kind_from_names([props.category or ""]), options.kind, source=source, title=title)
        language = detect_language(title + "\n" + "\n".join(b for s in slides for b in [s.title, *s.blocks]))
        split = kind in (Kind.retrospective, Kind.lesson, Kind.faq)
        body = _markdown(slides, language=language, plain_titles=split)
        meta: dict[str, Any] = {"slides": len(slides)}
        if props.author and props.author != "python-pptx":
            meta["author"] = props.author
        return file_drafts(
            path,
            body,
            kind=kind,
            title=title,
            media_type=PPTX_MEDIA_TYPE,
            data=data,
            source=source,
            meta=meta,
            keywords=props.keywords,
        )


def _read_slide(number: int, slide: Any, source: str) -> Slide:
    title = ""
    title_shape = None
    for shape in slide.placeholders:
        if shape.placeholder_format.type in _TITLES and shape.has_text_frame and shape.text_frame.text.strip():
            title, title_shape = " ".join(shape.text_frame.text.split()), shape
            break
    blocks: list[str] = []
    _shapes(list(slide.shapes), blocks, skip=title_shape, depth=0, source=source, number=number)
    notes = ""
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text.strip()
    return Slide(number, title, blocks, notes)


def _shapes(shapes: list[Any], out: list[str], *, skip: Any, depth: int, source: str, number: int) -> None:
    if depth > MAX_GROUP_DEPTH:
        raise InvalidInput(
            f"shapes are grouped more than {MAX_GROUP_DEPTH} levels deep", source=source, place=f"slide {number}"
        )
    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if skip is not None and shape.shape_id == skip.shape_id and depth == 0:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            _shapes(list(shape.shapes), out, skip=None, depth=depth + 1, source=source, number=number)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            if table := table_markdown(rows):
                out.append(table)
        elif shape.has_text_frame and (text := _text_frame(shape.text_frame)):
            out.append(text)


def _text_frame(frame: Any) -> str:
    """Paragraphs of a text frame: indented ones (bullets on a slide) as list items, by level."""
    paragraphs = [(p.level, " ".join(p.text.split())) for p in frame.paragraphs]
    paragraphs = [(level, text) for level, text in paragraphs if text]
    if not paragraphs:
        return ""
    if len(paragraphs) == 1:
        return plain_line(paragraphs[0][1])
    top = min(level for level, _ in paragraphs)
    return "\n".join("  " * (level - top) + "- " + escape_text(text) for level, text in paragraphs)


def _markdown(slides: list[Slide], *, language: str, plain_titles: bool) -> str:
    parts: list[str] = []
    notes_word = _NOTES_WORD["ja" if language == "ja" else "en"]
    for slide in slides:
        if plain_titles:
            heading = escape_text(slide.title) if slide.title else ""
            blocks = slide.blocks
        else:
            heading = escape_text(
                part_heading(part="slide", name=str(slide.number), title=slide.title, language=language)
            )
            blocks = [*slide.blocks, *([f"**{notes_word}**: " + plain_line(slide.notes)] if slide.notes else [])]
        if not heading and not blocks:
            continue
        parts.append(_join([*([f"## {heading}"] if heading else []), *blocks]))
    return "\n\n".join(parts)


def _join(blocks: list[str]) -> str:
    """Blocks apart by a blank line, but bullets of neighbouring text boxes kept in one list."""
    out = ""
    for block in blocks:
        if out and block.startswith("- ") and out.rsplit("\n", 1)[-1].lstrip().startswith("- "):
            out += "\n" + block
        elif out:
            out += "\n\n" + block
        else:
            out = block
    return out
