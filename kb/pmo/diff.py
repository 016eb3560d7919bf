"""A readable diff between two versions of a template or procedure: lines kept, removed and added.

Pure: two texts in, a list of lines out, for the version-history page to
colour. Unchanged runs longer than ``context`` lines on each side of a change
are folded into one ``skip`` line saying how many were left out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Op = Literal["same", "removed", "added", "skip"]


@dataclass(frozen=True)
class DiffLine:
    op: Op
    text: str
    skipped: int = 0  # for ``skip``: how many unchanged lines it stands for


def diff_lines(old: str, new: str, *, context: int = 2) -> list[DiffLine]:
    """Lines of ``new`` against ``old``; equal texts give no lines at all."""
    a, b = old.splitlines(), new.splitlines()
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
        out += [DiffLine("removed", t) for t in a[i1:i2]]
        out += [DiffLine("added", t) for t in b[j1:j2]]
    return out
