"""A document's Markdown body as a Word file, so a template kept as Markdown can be filled in with Word.

Small on purpose: the title becomes the document's title, Markdown headings
Word headings, paragraphs paragraphs (bold, italic and code kept), bullet and
numbered lists Word's list styles (three levels deep; each numbered list counts
from its own first number, see ``_Writer._restart``), tables Word tables with
a bold header row, code blocks monospaced paragraphs, quotes the Quote style.
Raw HTML is off in the parser, as on the document page, so a body's ``<tag>``
reaches Word as text. Links keep their text and show the address after it,
since a filled-in template is often printed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from docx import Document as new_docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_md = MarkdownIt("commonmark", {"html": False}).enable("table")
_EAST_ASIAN_FONT = "Yu Gothic"  # Word's default Japanese UI font since 2016; others fall back to theirs


def markdown_docx(*, title: str, body: str, language: str = "en") -> bytes:
    """The .docx bytes of ``title`` (as the Title) and the Markdown ``body``."""
    doc = new_docx()
    doc.core_properties.title = title
    doc.core_properties.language = language
    if language == "ja":
        fonts = doc.styles["Normal"].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), _EAST_ASIAN_FONT)
    doc.add_heading(title, level=0)
    _Writer(doc).write(_md.parse(body or ""))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@dataclass
class _Writer:
    """Walks markdown-it's block tokens, keeping the list and quote nesting it is inside."""

    doc: DocxDocument
    lists: list[str] = field(default_factory=list)  # "bullet" / "number", outermost first
    counters: list[int | None] = field(default_factory=list)  # per open list: its own w:num (numbered lists)
    item_started: list[bool] = field(default_factory=list)  # per open list item: its first paragraph written
    quoted: int = 0

    def write(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                level = min(int(token.tag[1:]), 9)
                self._inline(self.doc.add_heading("", level=level), tokens[i + 1])
                i += 3
                continue
            if kind == "paragraph_open":
                self._inline(self._paragraph(), tokens[i + 1])
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append("bullet" if kind == "bullet_list_open" else "number")
                numbered = kind == "ordered_list_open"
                self.counters.append(self._restart(int(token.attrGet("start") or 1)) if numbered else None)
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.counters.pop()
            elif kind == "list_item_open":
                self.item_started.append(False)
            elif kind == "list_item_close":
                self.item_started.pop()
            elif kind == "blockquote_open":
                self.quoted += 1
            elif kind == "blockquote_close":
                self.quoted -= 1
            elif kind in ("fence", "code_block"):
                self._code(token.content)
            elif kind == "table_open":
                i = self._table(tokens, i)
                continue
            i += 1

    def _paragraph(self) -> Paragraph:
        """A paragraph styled for where it stands: a list item's first line, its later lines, a quote."""
        if self.lists:
            depth = min(len(self.lists), 3)
            suffix = "" if depth == 1 else f" {depth}"
            if self.item_started and not self.item_started[-1]:
                self.item_started[-1] = True
                base = "List Bullet" if self.lists[-1] == "bullet" else "List Number"
                paragraph = self.doc.add_paragraph(style=base + suffix)
                if self.counters[-1] is not None:
                    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                    num_pr.get_or_add_ilvl().val = 0
                    num_pr.get_or_add_numId().val = self.counters[-1]
                return paragraph
            return self.doc.add_paragraph(style="List Continue" + suffix)
        if self.quoted:
            return self.doc.add_paragraph(style="Quote")
        return self.doc.add_paragraph()

    def _restart(self, start: int) -> int:
        """A new numbering instance for the numbered list just opened, counting from ``start``; its ``numId``.

        The List Number styles name one ``w:num`` each, and Word counts every
        paragraph of one ``w:num`` as one list, so two separate lists would run
        1, 2, 3, 4. Each list gets its own ``w:num`` on the style's abstract
        definition (same look) with a ``startOverride`` for level 0, the level
        the List Number styles use, and its items point to it.
        """
        depth = min(len(self.lists), 3)
        style = self.doc.styles["List Number" + ("" if depth == 1 else f" {depth}")]
        numbering = self.doc.part.numbering_part.element
        abstract = numbering.num_having_numId(style.element.pPr.numPr.numId.val).abstractNumId.val
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        return int(num.numId)

    def _inline(self, paragraph: Paragraph, inline: Token) -> None:
        bold = italic = False
        link: str | None = None
        for child in inline.children or []:
            kind = child.type
            if kind == "strong_open" or kind == "strong_close":
                bold = kind == "strong_open"
            elif kind == "em_open" or kind == "em_close":
                italic = kind == "em_open"
            elif kind == "link_open":
                link = str(child.attrs.get("href", ""))
            elif kind == "link_close":
                if link and link.startswith(("http://", "https://", "mailto:")):
                    paragraph.add_run(f" ({link})")
                link = None
            elif kind in ("text", "code_inline", "image"):
                text = child.content if kind != "image" else (child.content or str(child.attrs.get("alt", "")))
                if not text:
                    continue
                run = paragraph.add_run(text)
                run.bold, run.italic = bold or None, italic or None
                if kind == "code_inline":
                    run.font.name = "Consolas"
            elif kind == "softbreak":
                paragraph.add_run(" ")
            elif kind == "hardbreak":
                paragraph.add_run().add_break()

    def _code(self, text: str) -> None:
        """A code block: one monospaced paragraph, its lines kept as line breaks."""
        paragraph = self.doc.add_paragraph()
        for number, line in enumerate(text.rstrip("\n").split("\n")):
            if number:
                paragraph.runs[-1].add_break()
            paragraph.add_run(line).font.name = "Consolas"

    def _table(self, tokens: Sequence[Token], start: int) -> int:
        """Write the table opening at ``start``; the index after its ``table_close``."""
        rows: list[list[Token]] = []
        header_rows = 0
        in_head = False
        i = start + 1
        while tokens[i].type != "table_close":
            kind = tokens[i].type
            if kind == "thead_open":
                in_head = True
            elif kind == "thead_close":
                in_head = False
            elif kind == "tr_open":
                rows.append([])
                header_rows += 1 if in_head else 0
            elif kind == "inline":
                rows[-1].append(tokens[i])
            i += 1
        width = max((len(r) for r in rows), default=0)
        if width:
            table = self.doc.add_table(rows=len(rows), cols=width)
            table.style = self.doc.styles["Table Grid"]
            for r, row in enumerate(rows):
                for c, inline in enumerate(row):
                    paragraph = table.cell(r, c).paragraphs[0]
                    self._inline(paragraph, inline)
                    if r < header_rows:
                        for run in paragraph.runs:
                            run.bold = True
        return i + 1
