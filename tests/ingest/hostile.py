"""Hostile inputs, built here so every test shows what it throws at the parsers.

Each builder makes the smallest file that shows the problem at full strength
(the alias bomb is the one from the issue: nine anchors of nine items, nine
levels deep), so a test that passes proves the cap, not a lucky small sample.
"""

from __future__ import annotations

import time
from pathlib import Path

from ingest.markdown import MarkdownIngester
from ingest.options import IngestOptions
from kb.models import DocumentDraft


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Front matter whose aliases expand to ``width ** levels`` values ("billion laughs")."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "---\nkind: lesson\ntitle: laughs\n" + "\n".join(lines) + "\n---\n\n## Lesson\n\nHa.\n"


def deep_front_matter(depth: int = 200) -> str:
    """Front matter nested ``depth`` mappings deep, in block style."""
    nested = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v: 1\n"
    return "---\nkind: lesson\ntitle: deep\n" + nested + "---\n\n## Lesson\n\nDeep.\n"


def huge_front_matter(lines: int = 3_000) -> str:
    """Valid, flat front matter far longer than any real one (about 160 kB)."""
    keys = "".join(f"key{i}: value number {i} of a front matter nobody writes\n" for i in range(lines))
    return "---\nkind: lesson\ntitle: huge\n" + keys + "---\n\n## Lesson\n\nHuge.\n"


class StubbornIngester:
    """Stands in for a parser a file sends astray: ``.hang`` files never finish, ``.hog`` files eat memory.

    Anything else is parsed as Markdown. Defined at module level so the ingest
    worker can unpickle it; used to prove the budget, which must stop any
    parser, including ones no limit in this code base knows about.
    """

    extensions: tuple[str, ...] = (".hang", ".hog", ".bug", ".md")

    def parse(self, path: Path, data: bytes, *, source: str, options: IngestOptions) -> list[DocumentDraft]:
        if path.suffix == ".hang":
            while True:
                time.sleep(1)
        if path.suffix == ".hog":
            hoard = [bytearray(1 << 20) for _ in range(4096)]  # 4 GiB, a MiB at a time
            raise AssertionError(f"allocated {len(hoard)} MiB past the budget")
        if path.suffix == ".bug":
            raise TypeError("a bug in a parser, not the file's fault")
        return MarkdownIngester().parse(path, data, source=source, options=options)
