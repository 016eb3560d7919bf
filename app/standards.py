"""The standards lifecycle and what becomes of a lesson's recommendation, as use cases."""

from __future__ import annotations

from app.caller import Caller
from app.effects import audit, indexed
from kb.engine import KnowledgeBase
from kb.pmo import actions, lifecycle
from kb.record.models import ActionStatus, Document, LessonAction


def move(kb: KnowledgeBase, *, caller: Caller, doc_id: str, action: lifecycle.Action, comment: str = "") -> Document:
    """One lifecycle move (``kb.pmo.lifecycle``) with its review events, the versions it supersedes and their
    audit rows: all committed together or none; searchable when this returns."""
    with kb.store.transaction():
        moved = lifecycle.move(
            kb.store, doc_id, action, by=caller.principal, comment=comment, review_days=kb.settings.review_days
        )
        doc = moved.document
        audit(kb, caller, action.value, doc.id, kind=doc.kind, title=doc.title, status=doc.status, comment=comment)
        for old in moved.superseded:
            audit(kb, caller, "supersede", old.id, kind=old.kind, title=old.title, by_version=doc.id)
    indexed(kb)
    return doc


def set_lesson_action(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    lesson_id: str,
    status: ActionStatus,
    target_id: str | None = None,
    reason: str = "",
) -> LessonAction | None:
    """Record what became of a lesson's recommendation (adopted into a standard, not adopted, open), audited."""
    with kb.store.transaction():
        row = actions.set_action(kb.store, lesson_id, status, by=caller.principal, target_id=target_id, reason=reason)
        audit(kb, caller, "lesson_action", lesson_id, status=status.value, adopted_into=target_id or "", reason=reason)
    return row
