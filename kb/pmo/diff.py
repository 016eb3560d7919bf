"""A readable diff between two versions of a template or procedure: the text as readers see it, words marked.

Readers compare what the page shows, not the Markdown behind it: both bodies
are reduced to their rendered text blocks (a heading, a paragraph, a list
item as "• …", a table row as "cell | cell"), blocks are compared, and a block
that changed a little shows once with the removed and added words marked
instead of as a removed and an added line. Unchanged runs longer than
``context`` blocks on each side of a change fold into one ``skip`` line
saying how many were left out. Pure: two texts in, lines out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt

Op = Literal["same", "removed", "added", "changed", "skip"]
PartOp = Literal["same", "removed", "added"]

_md = MarkdownIt("commonmark", {"html": False}).enable("table")
# Words for Latin text, one character at a time for Japanese (no spaces between its words), spaces kept.
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:['’.-][A-Za-z0-9_]+)*|\s+|.", re.S)
SIMILAR = 0.5
"""Blocks at least this similar (difflib ratio over tokens) are one changed block, not a removal and an addition."""


@dataclass(frozen=True)
class DiffLine:
    op: Op
    text: str
    skipped: int = 0  # for ``skip``: how many unchanged blocks it stands for
    parts: tuple[tuple[PartOp, str], ...] = ()  # for ``changed``: the block's pieces, removed and added marked


def text_blocks(markdown: str) -> list[str]:
    """The blocks a reader sees in rendered ``markdown``, as plain text, one per heading, paragraph, item or row."""
    blocks: list[str] = []
    prefix: list[str] = []
    row: list[str] | None = None
    for token in _md.parse(markdown or ""):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            prefix.append("• " if token.type == "bullet_list_open" else "· ")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix.pop()
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            text = "".join(
                c.content if c.type in ("text", "code_inline") else " " if c.type in ("softbreak", "hardbreak") else ""
                for c in token.children or []
            ).strip()
            if row is not None:
                row.append(text)
            elif text:
                blocks.append(("  " * (len(prefix) - 1) + prefix[-1] if prefix else "") + text)
        elif token.type in ("fence", "code_block"):
            blocks.extend(line for line in token.content.splitlines() if line.strip())
    return blocks


def diff_lines(old: str, new: str, *, context: int = 2) -> list[DiffLine]:
    """Rendered blocks of ``new`` against ``old``; texts that read the same give no lines at all."""
    a, b = text_blocks(old), text_blocks(new)
    out: list[DiffLine] = []
    if a == b:
        return out
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            same = a[i1:i2]
            first, last = i1 == j1 == 0, (i2, j2) == (len(a), len(b))
            keep_head = 0 if first else context
            keep_tail = 0 if last else context
            if len(same) > keep_head + keep_tail + 1:
                out += [DiffLine("same", t) for t in same[:keep_head]]
                out.append(DiffLine("skip", "", len(same) - keep_head - keep_tail))
                out += [DiffLine("same", t) for t in same[len(same) - keep_tail :]]
            else:
                out += [DiffLine("same", t) for t in same]
            continue
        out += _replaced(a[i1:i2], b[j1:j2])
    return out


def _replaced(old: list[str], new: list[str]) -> list[DiffLine]:
    """Removed and added blocks, pairing each old block with the next similar new one as one changed block."""
    out: list[DiffLine] = []
    j = 0
    for block in old:
        match = next((k for k in range(j, len(new)) if _ratio(block, new[k]) >= SIMILAR), None)
        if match is None:
            out.append(DiffLine("removed", block))
            continue
        out += [DiffLine("added", t) for t in new[j:match]]
        out.append(DiffLine("changed", new[match], parts=word_diff(block, new[match])))
        j = match + 1
    out += [DiffLine("added", t) for t in new[j:]]
    return out


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(a=_TOKEN.findall(a), b=_TOKEN.findall(b), autojunk=False).ratio()


def word_diff(old: str, new: str) -> tuple[tuple[PartOp, str], ...]:
    """``new`` in pieces against ``old``: unchanged, removed and added runs of words (characters for Japanese)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    parts: list[tuple[PartOp, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            parts.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(("added", "".join(b[j1:j2])))
    return tuple(parts)
