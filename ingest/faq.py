"""Splitting an FAQ file into one document per question and answer.

Each level-2 heading is a question (a leading ``Q.``, ``Q:``, ``Q：`` or ``質問:``
is dropped) and what follows it is the answer (a leading ``A.``/``A:``/``回答:``
is dropped). A file without level-2 headings is a single FAQ whose question is
its title.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ingest.mdtree import sections

_Q_PREFIX = re.compile(r"^\s*(?:Q\s*\d*\s*[.:：)]|質問\s*[:：]|問\s*[:：])\s*", re.I)
_A_PREFIX = re.compile(r"^\s*(?:\*\*)?(?:A\s*[.:：)]|回答\s*[:：]|答え?\s*[:：])(?:\*\*)?\s*", re.I)


@dataclass(frozen=True)
class QA:
    """One question with its answer; ``key`` is stable while the question's wording is."""

    key: str
    question: str
    answer: str
    line: int


def split_faq(body: str, *, title: str) -> list[QA]:
    """Question/answer pairs in an FAQ body (see the module docstring for the format)."""
    _, found = sections(body, 2)
    if not found:
        return [QA(_key(title, set()), title, _A_PREFIX.sub("", body.strip(), count=1), 0)]
    seen: set[str] = set()
    pairs: list[QA] = []
    for section in found:
        question = _Q_PREFIX.sub("", section.heading).strip()
        answer = _A_PREFIX.sub("", section.body, count=1).strip()
        pairs.append(QA(_key(question, seen), question, answer, section.line))
    return pairs


def _key(question: str, seen: set[str]) -> str:
    """``faq-`` + a hash of the question, made unique within the file.

    Keyed by wording rather than position so inserting a question at the top does
    not shift every other FAQ's identity.
    """
    base = "faq-" + hashlib.sha256(question.strip().encode()).hexdigest()[:10]
    key, n = base, 2
    while key in seen:
        key, n = f"{base}-{n}", n + 1
    seen.add(key)
    return key
