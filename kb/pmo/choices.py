"""The project, phase and tag values the store already holds, for the forms' pick-lists.

A form that offers what others wrote (and the vocabulary's phases) keeps the
store from drifting into 要件定義 / 要件定義フェーズ / Requirements as three
values. Only documents the principal may see are read: a restricted project's
name is not offered to someone outside its groups.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import select

from kb.identity.access import Principal
from kb.record.models import Document
from kb.record.store import SqlStore


@dataclass
class Written:
    """Each value as written → the documents that write it."""

    projects: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    tags: Counter[str] = field(default_factory=Counter)


def written_values(store: SqlStore, who: Principal) -> Written:
    """The projects, phases and tags of every document ``who`` may see (four columns read, no bodies)."""
    out = Written()
    with store.db.reading() as session:
        rows = session.exec(select(Document.project, Document.phase, Document.tags, Document.groups))
        for project, phase, tags, groups in rows:
            if not who.can_see(groups or []):
                continue
            if project and project.strip():
                out.projects[project.strip()] += 1
            if phase and phase.strip():
                out.phases[phase.strip()] += 1
            out.tags.update({t.strip() for t in tags or [] if t and t.strip()})
    return out
