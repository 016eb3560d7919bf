"""Putting text from Word, PDF, spreadsheets and web pages into Markdown bodies safely.

Text that came from a file is not Markdown: ``<script>`` in a cell or a
paragraph must stay text, even under a renderer that allows raw HTML. Escaping
``<`` where it would open a tag (and a backslash that would undo that) is
enough for CommonMark to treat it as a literal character; everything else a
user wrote is left as it was, so bodies stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

# "<" opening a tag, a comment, a declaration or an autolink ("<javascript:…>").
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
# A backslash before ASCII punctuation is an escape in CommonMark; double it so it stays a backslash.
_ESCAPING_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_BLANK_RUNS = re.compile(r"\n{3,}")
# A renderer with raw HTML switched on: the worst case a body must be safe under.
_md_html = MarkdownIt("commonmark", {"html": True}).enable("table")


def escape_text(text: str) -> str:
    """Plain text made safe to place in Markdown: no raw HTML can come out of it."""
    return _TAG_OPEN.sub(r"\\<", _ESCAPING_BACKSLASH.sub(r"\\\\", text))


def table_markdown(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown (GFM) table from rows of plain-text cells; the first row is the header.

    Cells are escaped, ``|`` is escaped and line breaks inside a cell become
    spaces (a Markdown table row is one line). Short rows are padded.
    """
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return ""
    width = max(len(row) for row in rows)

    def line(row: Sequence[str]) -> str:
        cells = [_cell(c) for c in row] + [""] * (width - len(row))
        return "| " + " | ".join(cells) + " |"

    header, *body = rows
    return "\n".join([line(header), "| " + " | ".join(["---"] * width) + " |", *(line(r) for r in body)])


def _cell(text: str) -> str:
    return escape_text(" ".join(text.split())).replace("|", "\\|")


def tidy(markdown: str) -> str:
    """Trailing spaces gone, at most one blank line in a row, no blank lines at either end."""
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def without_html(markdown: str) -> str:
    """``markdown`` unchanged when no raw HTML parses out of it, else with every ``<`` made an entity.

    The converters escape as they go; this is the check that holds even if one
    of them misses a case (an odd code span, a library change). ``&lt;`` can
    never open a tag; inside code it shows as written, a cosmetic cost paid
    only in that rare case.
    """
    if not _has_html(_md_html.parse(markdown)):
        return markdown
    return markdown.replace("<", "&lt;")


def _has_html(tokens: Sequence[Token]) -> bool:
    return any(
        t.type in ("html_block", "html_inline") or (t.children is not None and _has_html(t.children)) for t in tokens
    )
