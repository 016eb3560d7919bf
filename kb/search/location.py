"""Where in an office file a passage sits: the sheet of a workbook, the slide of a deck.

A workbook or a deck published as one standard becomes one Markdown body with
a level-2 heading per sheet or slide, written by ``part_heading`` in the
document's language (``## シート: WBS``, ``## Slide 7: Rollout``). Search reads
the heading back (``location_at``) to say where a hit is, and the document page
splits the body at those headings (``split_parts``) to show each sheet or slide
as its own section. The heading is the only link between the two sides, so
both live here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Part = Literal["sheet", "slide"]

WORDS: dict[Part, dict[str, str]] = {
    "sheet": {"ja": "シート", "en": "Sheet"},
    "slide": {"ja": "スライド", "en": "Slide"},
}
_HEADING = re.compile(
    r"^(?:(?:シート|Sheet):\s*(?P<sheet>.+)|(?:スライド|Slide)\s+(?P<slide>\d+)(?::\s*(?P<title>.*))?)$"
)
_MD_HEADING = re.compile(r"^##\s+(.+?)\s*$")


@dataclass(frozen=True)
class Location:
    """A sheet (``name`` is its name) or a slide (``name`` is its number, ``title`` its title, if any)."""

    part: Part
    name: str
    title: str = ""

    def label(self, language: str = "en") -> str:
        """Where, in words: ``sheet: WBS``, ``slide 7`` (``シート: WBS``, ``スライド 7`` in Japanese)."""
        word = WORDS[self.part]["ja" if language == "ja" else "en"]
        word = word if language == "ja" else word.lower()
        return f"{word}: {self.name}" if self.part == "sheet" else f"{word} {self.name}"

    @property
    def anchor(self) -> str:
        """An HTML id for the part's section on the document page (``slide-7``, ``sheet-1`` by position)."""
        return f"{self.part}-{self.name}" if self.part == "slide" else f"sheet-{_slug(self.name)}"


def part_heading(*, part: Part, name: str, title: str = "", language: str) -> str:
    """The heading text of a sheet or a slide in a document of ``language`` (without the ``##``)."""
    word = WORDS[part]["ja" if language == "ja" else "en"]
    if part == "sheet":
        return f"{word}: {' '.join(name.split())}"
    title = " ".join(title.split())
    return f"{word} {name}" + (f": {title}" if title else "")


def parse_heading(text: str) -> Location | None:
    """The sheet or slide a heading names, if it is one that ``part_heading`` wrote."""
    match = _HEADING.match(text.strip())
    if match is None:
        return None
    if match.group("sheet") is not None:
        return Location("sheet", match.group("sheet").strip())
    return Location("slide", match.group("slide"), (match.group("title") or "").strip())


def location_at(text: str, offset: int, heading: str = "") -> Location | None:
    """The sheet or slide the character at ``offset`` of a chunk's ``text`` belongs to.

    A chunk can hold the end of one slide and the start of the next (small
    slides are packed together), and keeps heading lines in its text: the last
    heading line before ``offset`` decides. Before any, the chunk's heading path
    (``heading``, " > "-joined) does.
    """
    found: Location | None = None
    start = 0
    for line in text.split("\n"):
        if start > offset:
            break
        found = parse_heading(line) or found
        start += len(line) + 1
    if found is not None:
        return found
    return parse_heading(heading.split(" > ")[0]) if heading else None


def split_parts(body: str) -> list[tuple[Location | None, str]]:
    """The body cut at its sheet and slide headings: (location, Markdown under it); text before any has none."""
    parts: list[tuple[Location | None, list[str]]] = [(None, [])]
    for line in body.split("\n"):
        match = _MD_HEADING.match(line)
        found = parse_heading(unescape_markdown(match.group(1))) if match else None
        if found is not None:
            parts.append((found, []))
        else:
            parts[-1][1].append(line)
    out = [(loc, "\n".join(lines).strip()) for loc, lines in parts]
    return [(loc, text) for loc, text in out if loc is not None or text]


def unescape_markdown(text: str) -> str:
    """Markdown backslash escapes undone (a sheet named ``a<b`` is written ``a\\<b``)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _slug(name: str) -> str:
    return re.sub(r"[^\w-]+", "-", name, flags=re.UNICODE).strip("-").lower() or "sheet"
