"""A workbook's sheets as Markdown: every sheet under its name, its cells as tables.

Template sheets are laid out for people, not parsers: a title row, a note or
two, a blank row, then a table (a WBS, a 課題管理表), sometimes a second table
further down. A sheet is cut into blocks at its empty rows; a block whose rows
each hold at most one value is text (titles, notes, instructions), any other
block is a table whose first row is its header. Empty columns at either side of
a block are dropped. A very long sheet keeps its first ``MAX_ROWS`` rows in the
body (the whole sheet is in the original file) and says how many it left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingest.markup import escape_text, table_markdown
from ingest.values import cell_text
from kb.search.location import part_heading

MAX_ROWS = 2000
_NUMBERED = re.compile(r"^(\d+)(?=[.)])")
_MARKERS = set("#>*+=-_`~|")


@dataclass(frozen=True)
class Book:
    """A workbook as read: its sheets' rows and the document properties that say what it is."""

    sheets: list[tuple[str, list[list[Any]]]]
    title: str | None = None
    category: str | None = None
    keywords: str | None = None
    author: str | None = None


def workbook_text(book: Book) -> str:
    """All cell text, for telling the language before the headings are written."""
    return "\n".join(cell_text(c) for _, rows in book.sheets for row in rows[:200] for c in row if c is not None)


def workbook_markdown(book: Book, *, language: str) -> tuple[str, list[str]]:
    """The body (a ``##`` heading per non-empty sheet) and the names of the sheets it shows."""
    parts: list[str] = []
    shown: list[str] = []
    for name, rows in book.sheets:
        blocks = sheet_blocks(rows)
        if not blocks:
            continue
        shown.append(name)
        heading = "## " + escape_text(part_heading(part="sheet", name=name, language=language))
        parts.append("\n\n".join([heading, *blocks]))
    return "\n\n".join(parts), shown


def sheet_blocks(rows: Sequence[Sequence[object]]) -> list[str]:
    """Markdown blocks of one sheet (see the module docstring)."""
    texts = [[cell_text(c) for c in row] for row in rows[:MAX_ROWS]]
    out: list[str] = []
    block: list[list[str]] = []
    for row in [*texts, []]:
        if any(row):
            block.append(row)
            continue
        if block:
            out.append(_block_markdown(block))
            block = []
    if len(rows) > MAX_ROWS:
        left = sum(1 for row in rows[MAX_ROWS:] if any(c is not None and str(c).strip() for c in row))
        if left:
            out.append(f"… {left:,} more rows (in the original file)")
    return [b for b in out if b]


def _block_markdown(rows: list[list[str]]) -> str:
    first = min(next(i for i, c in enumerate(row) if c) for row in rows)
    last = max(max(i for i, c in enumerate(row) if c) for row in rows)
    trimmed = [row[first : last + 1] for row in rows]
    if all(sum(1 for c in row if c) <= 1 for row in trimmed):
        return "\n\n".join(plain_line(" ".join(c for c in row if c)) for row in trimmed)
    return table_markdown(trimmed)


def plain_line(text: str) -> str:
    """Cell or shape text as a Markdown paragraph that reads as text: no raw HTML, and a line that starts
    like a heading, a list item or a quote (``# of tasks``, ``- note``) stays a plain line."""
    return "\n".join(_plain(line.strip()) for line in escape_text(text).split("\n"))


def _plain(line: str) -> str:
    if match := _NUMBERED.match(line):
        return f"{match.group(1)}\\{line[match.end(1) :]}"
    return "\\" + line if line[:1] in _MARKERS else line
