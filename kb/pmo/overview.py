"""What the store holds, for the home page: counts per kind and language, the latest of each kind, my work.

Read-only queries that fetch only the columns they need, so the home page
stays cheap on a large store; every document counted or listed is one the
principal may see (restricted documents of other groups are neither listed
nor counted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import col, select

from kb.identity.access import Principal
from kb.record.models import Document, Kind, SavedBrief, Status
from kb.record.store import SqlStore

CURRENT = (Status.published, Status.in_review, Status.draft)
"""What the counts count: superseded and archived versions are history, not what the store offers."""


@dataclass
class Overview:
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # kind → language → documents
    latest: dict[str, list[Document]] = field(default_factory=dict)  # kind → newest first
    drafts: list[Document] = field(default_factory=list)  # mine, not yet published
    briefs: list[SavedBrief] = field(default_factory=list)  # saved by me, newest first

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def overview(store: SqlStore, who: Principal, *, latest: int = 3, mine: int = 8) -> Overview:
    """The store as ``who`` sees it: counts, the ``latest`` newest per kind, up to ``mine`` drafts and briefs."""
    result = Overview(counts={k.value: Counter() for k in Kind})
    with store.db.reading() as session:
        rows = session.exec(
            select(Document.kind, Document.language, Document.groups).where(col(Document.status).in_(CURRENT))
        )
        for kind, language, groups in rows:
            if who.can_see(groups or []):
                result.counts[str(kind.value if isinstance(kind, Kind) else kind)][language] += 1
        for kind in Kind:
            newest = session.exec(
                select(Document)
                .where(Document.kind == kind, col(Document.status).in_((Status.published, Status.in_review)))
                .order_by(col(Document.updated_at).desc())
                .limit(latest * 5)
            )
            result.latest[kind.value] = [d for d in newest if who.can_see(d.groups)][:latest]
        if who.login:
            drafts = session.exec(
                select(Document)
                .where(Document.created_by == who.login, col(Document.status).in_((Status.draft, Status.in_review)))
                .order_by(col(Document.updated_at).desc())
                .limit(mine)
            )
            result.drafts = list(drafts)
            result.briefs = list(
                session.exec(
                    select(SavedBrief)
                    .where(SavedBrief.created_by == who.login)
                    .order_by(col(SavedBrief.id).desc())
                    .limit(mine)
                )
            )
    return result
