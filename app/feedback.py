"""Feedback from every signed-in reader on a search hit or a document, and the owner's queue of outdated ones."""

from __future__ import annotations

from app.caller import Caller
from app.effects import audit
from kb.engine import KnowledgeBase
from kb.errors import Forbidden, Unauthorized
from kb.identity.access import Principal, visible
from kb.pmo import feedback
from kb.pmo.lifecycle import is_owner
from kb.record.models import Document, Feedback, Verdict


def give(
    kb: KnowledgeBase, *, caller: Caller, doc_id: str, verdict: Verdict, query: str = "", comment: str = ""
) -> Feedback:
    """Record a verdict on a document the caller may see; readers too, but only signed in (so an ``outdated``
    report names someone the owner can ask). Audited with the verdict, in one transaction."""
    who = caller.principal
    if not who.authenticated or not who.login:
        raise Unauthorized("log in to rate a result: your PMO sees who reported what, to ask back")
    with kb.store.transaction():
        doc = visible(who, kb.store.get(doc_id))
        row = feedback.record(kb.store, doc_id=doc.id, verdict=verdict, query=query, comment=comment, by=who.login)
        audit(kb, caller, "feedback", doc.id, verdict=verdict.value, title=doc.title, comment=bool(row.comment))
    return row


def owns(who: Principal, doc: Document) -> bool:
    """Whose review queue an outdated report lands in: the owner (by login), the creator, any PMO admin."""
    return who.is_admin or is_owner(doc, who) or (doc.created_by is not None and doc.created_by == who.login)


def outdated(kb: KnowledgeBase, *, caller: Caller) -> list[feedback.Report]:
    """The open outdated reports on documents the caller owns or created (a PMO admin: all they can see)."""
    who = caller.principal
    return [r for r in feedback.open_outdated(kb.store) if who.can_see(r.document.groups) and owns(who, r.document)]


def resolve(kb: KnowledgeBase, *, caller: Caller, feedback_id: int) -> Feedback:
    """Mark an outdated report dealt with: by the document's owner or creator, or a PMO admin; audited."""
    who = caller.principal
    with kb.store.transaction():
        row = feedback.get(kb.store, feedback_id)
        doc = visible(who, kb.store.get(row.document_id))
        if not owns(who, doc):
            raise Forbidden("only the document's owner, its creator or a PMO admin may close this report")
        done = feedback.resolve(kb.store, feedback_id, by=who.label)
        audit(kb, caller, "feedback_resolve", doc.id, title=doc.title, feedback=feedback_id)
    return done
