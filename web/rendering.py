"""Markdown to safe HTML for the document page.

markdown-it-py with raw HTML switched off: ``<script>`` in a body is shown as
text, never parsed as markup; its link validation drops ``javascript:``,
``vbscript:``, ``file:`` and non-image ``data:`` URLs. The result is the only
HTML the templates mark safe.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from kb.search.location import Location, split_parts

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(text: str) -> Markup:
    """HTML for a Markdown body; raw HTML in the input is escaped."""
    return Markup(_md.render(text or ""))


def file_parts(body: str) -> list[tuple[Location | None, Markup]]:
    """A workbook's or deck's body as one safe HTML section per sheet or slide (``kb.search.location``)."""
    return [(location, render_markdown(text)) for location, text in split_parts(body)]


def part_names(doc_meta: dict[str, Any], body: str) -> list[Location]:
    """The sheets or slides of an office file standard, for the library's list (empty for other documents)."""
    if not ({"sheets", "slides"} & set(doc_meta)):
        return []
    return [location for location, _ in split_parts(body) if location is not None]
