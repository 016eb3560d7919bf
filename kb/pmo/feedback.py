"""What readers say about documents: helpful, not helpful, or outdated, with an optional comment.

An ``outdated`` report is work for someone: it stays open in the review queue
of the document's owner (``owner`` naming their login, or its creator) and of
every PMO admin, and counts on the dashboard, until one of them marks it dealt
with. Helpful and not helpful feed the search analytics as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from kb.errors import InvalidInput, NotFound
from kb.record.models import Document, Feedback, User, Verdict, utcnow
from kb.record.store import SqlStore

MAX_COMMENT = 2000


@dataclass(frozen=True)
class Report:
    """One open ``outdated`` report and the document it is about.

    ``reporter`` names who sent it as people read it: their display name, else
    their login (an account that is gone), empty when nobody signed it.
    """

    feedback: Feedback
    document: Document
    reporter: str = ""


def record(store: SqlStore, *, doc_id: str, verdict: Verdict, query: str, comment: str, by: str | None) -> Feedback:
    """Store one verdict (the caller has checked the document exists and may be seen)."""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment: at most {MAX_COMMENT} characters")
    row = Feedback(
        query=query.strip()[:500],
        document_id=doc_id,
        helpful=verdict is Verdict.helpful,
        verdict=verdict,
        comment=comment,
        actor=by,
    )
    with store.db.writing() as session:
        session.add(row)
        session.flush()
        session.refresh(row)
    return row


def open_outdated(store: SqlStore) -> list[Report]:
    """Every unresolved ``outdated`` report with its document and its reporter's name, newest first (documents
    deleted since: skipped)."""
    with store.db.reading() as session:
        rows = list(
            session.exec(
                select(Feedback, User.display_name)
                .join(User, col(User.login) == col(Feedback.actor), isouter=True)
                .where(col(Feedback.verdict) == Verdict.outdated, col(Feedback.resolved_at).is_(None))
                .order_by(col(Feedback.id).desc())
            )
        )
    docs = {d.id: d for d in store.get_many(sorted({r.document_id for r, _ in rows}))}
    return [Report(r, docs[r.document_id], name or r.actor or "") for r, name in rows if r.document_id in docs]


def get(store: SqlStore, feedback_id: int) -> Feedback:
    with store.db.reading() as session:
        row = session.get(Feedback, feedback_id)
        if row is None:
            raise NotFound(f"no feedback {feedback_id}")
        return row


def resolve(store: SqlStore, feedback_id: int, *, by: str) -> Feedback:
    """Mark a report dealt with (it leaves the review queue and the dashboard's open count)."""
    with store.db.writing() as session:
        row = session.get(Feedback, feedback_id)
        if row is None:
            raise NotFound(f"no feedback {feedback_id}")
        if row.resolved_at is None:
            row.resolved_at = utcnow()
            row.resolved_by = by
            session.add(row)
        session.flush()
        session.refresh(row)
        return row


def outdated_counts(store: SqlStore, doc_ids: Sequence[str] | None = None) -> dict[str, int]:
    """Open ``outdated`` reports per document id."""
    counts: dict[str, int] = {}
    for report in open_outdated(store):
        if doc_ids is None or report.document.id in doc_ids:
            counts[report.document.id] = counts.get(report.document.id, 0) + 1
    return counts
