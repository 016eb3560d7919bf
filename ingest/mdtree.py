"""Structure of a Markdown body as its author wrote it: sections, list items, labelled parts.

Ingesters split retrospectives and FAQ files into several documents; they need
the original Markdown of each part (to store and render it), not plain text.
markdown-it's source line maps give exactly that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class Section:
    """A heading and the Markdown under it, up to the next heading of the same or a higher level.

    ``line`` is the 0-based line of the heading within the text that was split
    (for error messages, offset by the caller).
    """

    heading: str
    body: str
    line: int


def sections(markdown: str, level: int) -> tuple[str, list[Section]]:
    """Split at headings of ``level``; return the text before the first one and the sections."""
    lines = markdown.splitlines()
    tokens = _md.parse(markdown)
    starts: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == f"h{level}" and tok.map:
            starts.append((tok.map[0], tokens[i + 1].content.strip()))
        elif tok.type == "heading_open" and int(tok.tag[1:]) < level and tok.map:
            starts.append((tok.map[0], ""))  # a higher heading ends the section
    preamble_end = starts[0][0] if starts else len(lines)
    out: list[Section] = []
    for n, (start, heading) in enumerate(starts):
        if not heading:
            continue
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        out.append(Section(heading, "\n".join(lines[start + 1 : end]).strip(), start))
    return "\n".join(lines[:preamble_end]).strip(), out


def list_items(markdown: str) -> list[str]:
    """Markdown of each top-level list item, without its bullet or number."""
    lines = markdown.splitlines()
    items: list[str] = []
    depth = 0
    for tok in _md.parse(markdown):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif tok.type == "list_item_open" and depth == 1 and tok.map:
            text = "\n".join(lines[tok.map[0] : tok.map[1]])
            items.append(_dedent_item(text))
    return [i for i in items if i]


def _dedent_item(text: str) -> str:
    first, _, rest = text.partition("\n")
    first = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?", "", first)
    rest_lines = [line[2:] if line.startswith("  ") else line.lstrip() for line in rest.splitlines()]
    return "\n".join([first, *rest_lines]).strip()


def paragraphs(markdown: str) -> list[str]:
    """Blank-line separated blocks of ``markdown``."""
    return [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]


def fold(text: str) -> str:
    """Heading/label comparison form: NFKC, case-folded, without markup, spaces and punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s*_`#:：・/、,.!?！？()（）\[\]「」-]+", "", text)


_LABEL = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?P<label>[^:：*_\n]{1,30}?)(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(?P<rest>.*)$"
)


def labelled_parts(markdown: str, labels: dict[str, str]) -> tuple[dict[str, str], str]:
    """Pull ``**Label**: text`` parts out of ``markdown``.

    ``labels`` maps folded label names (see ``fold``) to field names. A part runs
    from its label to the next recognised label. Returns the fields found and the
    text that belonged to no label.
    """
    found: dict[str, list[str]] = {}
    unlabelled: list[str] = []
    current: list[str] = unlabelled
    for line in markdown.splitlines():
        match = _LABEL.match(line)
        name = labels.get(fold(match.group("label"))) if match else None
        if match and name:
            current = found.setdefault(name, [])
            current.append(match.group("rest"))
        else:
            current.append(line)
    fields = {k: "\n".join(v).strip() for k, v in found.items() if "\n".join(v).strip()}
    return fields, "\n".join(unlabelled).strip()


@dataclass(frozen=True)
class Table:
    """A Markdown table as written: its rows of cell Markdown (header row first) and its lines ``[start, end)``."""

    rows: list[list[str]]
    start: int
    end: int


def tables(markdown: str) -> list[Table]:
    """The tables of ``markdown``; a cell is its Markdown as written, with ``\\|`` read as ``|``."""
    out: list[Table] = []
    rows: list[list[str]] = []
    span: list[int] | None = None
    for tok in _md.parse(markdown):
        if tok.type == "table_open" and tok.map:
            rows, span = [], tok.map
        elif tok.type == "tr_open":
            rows.append([])
        elif tok.type == "inline" and span is not None and rows:
            rows[-1].append(tok.content.strip())
        elif tok.type == "table_close" and span is not None:
            out.append(Table(rows, span[0], span[1]))
            span = None
    return out


def without_lines(markdown: str, spans: list[tuple[int, int]]) -> str:
    """``markdown`` without the lines in ``spans`` (each ``[start, end)``)."""
    dropped = {n for start, end in spans for n in range(start, end)}
    return "\n".join(line for n, line in enumerate(markdown.splitlines()) if n not in dropped)
