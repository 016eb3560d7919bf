"""Markdown to safe HTML for the document page.

markdown-it-py with raw HTML switched off: ``<script>`` in a body is shown as
text, never parsed as markup; its link validation drops ``javascript:``,
``vbscript:``, ``file:`` and non-image ``data:`` URLs. The result is the only
HTML the templates mark safe.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(text: str) -> Markup:
    """HTML for a Markdown body; raw HTML in the input is escaped."""
    return Markup(_md.render(text or ""))
