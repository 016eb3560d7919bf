"""Snippets: the part of a chunk worth showing, with the matched terms marked.

Pure functions over plain text. A snippet is a list of ``SnippetPart``s (runs of text, matched or not), never
HTML: each renderer (Jinja2 with autoescape, the terminal) marks matches its
own way, so no text from a document can ever become markup.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class SnippetPart:
    """A run of a snippet's text: matched (a term of the query, to mark) or not."""

    text: str
    match: bool = False


def window(length: int, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The ``width``-character window of a ``length``-character text holding the most match spans.

    Windows start a little before a span (a fifth of the width) so the match has
    context on its left, and never run past either end of the text.
    """
    if length <= width or not spans:
        return 0, min(length, width)
    lead = width // 5
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    # spans sorted and not overlapping (as ``snippet`` takes them): the spans inside [begin, end) are
    # a run, from the first starting at begin or later to the last ending at end or before
    ordered = all(a <= b for a, b in itertools.pairwise(starts)) and all(a <= b for a, b in itertools.pairwise(ends))
    best, best_count = (0, width), -1
    for start in starts:
        begin = max(0, min(start - lead, length - width))
        end = begin + width
        if ordered:
            count = max(0, bisect.bisect_right(ends, end) - bisect.bisect_left(starts, begin))
        else:
            count = sum(1 for s, e in spans if s >= begin and e <= end)
        if count > best_count:
            best, best_count = (begin, end), count
    return best


def snippet(text: str, spans: list[tuple[int, int]], width: int = 200) -> list[SnippetPart]:
    """Segments of the best window of ``text``, with ``spans`` (sorted, non-overlapping) marked.

    An ellipsis segment marks text cut at either end. A span the window cuts
    is taken whole (the window grows by its cut part): half a marked word
    ("da" of "data") reads as a match of its own. Nor does either end cut a
    word written in Latin letters or digits ("…FP発行後" for "RFP発行後").
    """
    text = text.replace("\n", " ")  # one for one, so the spans still line up
    begin, end = window(len(text), spans, width)
    for start, stop in spans:
        if start < begin < stop:
            begin = start
        if start < end < stop:
            end = stop
    begin, end = _word_edge(text, begin, -1), _word_edge(text, end, 1)
    segments: list[SnippetPart] = [SnippetPart("…")] if begin > 0 else []
    cursor = begin
    for start, stop in spans:
        start, stop = max(start, begin), min(stop, end)
        if start >= stop or start < cursor:
            continue
        if start > cursor:
            segments.append(SnippetPart(text[cursor:start]))
        segments.append(SnippetPart(text[start:stop], match=True))
        cursor = stop
    if cursor < end:
        segments.append(SnippetPart(text[cursor:end]))
    if end < len(text):
        segments.append(SnippetPart("…"))
    return segments


WORD_EDGE = 20
"""How far an end of a snippet moves to take a Latin word it cuts whole (a longer "word" is cut: a hash, a URL)."""


def _word_edge(text: str, at: int, step: int) -> int:
    """``at`` moved by ``step`` (−1: left, 1: right) out of a Latin letter or digit word it falls inside."""

    def inside(i: int) -> bool:
        return 0 < i < len(text) and all(c.isascii() and c.isalnum() for c in text[i - 1 : i + 1])

    moved = at
    while inside(moved) and abs(moved - at) < WORD_EDGE:
        moved += step
    return moved if not inside(moved) else at
