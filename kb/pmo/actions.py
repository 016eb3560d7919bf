"""Lessons close the loop: each lesson's recommendation is open, adopted into a standard, or not adopted.

``adopted`` links the lesson to the template or procedure version that now
carries its recommendation; ``not_adopted`` needs a reason. No row means
open. The document pages show the link both ways (``action_of`` for the lesson,
``adopted_into`` for the standard); the dashboard's 再発防止 backlog is the
open lessons by project and age.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from kb.errors import InvalidInput
from kb.identity.access import STANDARD_KINDS, Principal, check_edit, visible
from kb.record.models import ActionStatus, Kind, LessonAction, utcnow
from kb.record.store import SqlStore


def set_action(
    store: SqlStore,
    lesson_id: str,
    status: ActionStatus,
    *,
    by: Principal,
    target_id: str | None = None,
    reason: str = "",
) -> LessonAction | None:
    """Record what became of lesson ``lesson_id``; return the row (None when set back to open).

    Whoever may edit the lesson (its creator, a PMO admin) decides; the target
    must be a template or procedure they can see.
    """
    lesson = store.get(lesson_id)
    check_edit(by, lesson)
    if lesson.kind is not Kind.lesson:
        raise InvalidInput(f"only lessons have an action status; this is a {lesson.kind.value}")
    reason = reason.strip()
    target = None
    if status is ActionStatus.adopted:
        if not target_id:
            raise InvalidInput("say which template or procedure now carries the recommendation")
        target = visible(by, store.get(target_id))
        if target.kind not in STANDARD_KINDS:
            raise InvalidInput(f"a lesson is adopted into a template or procedure, not a {target.kind.value}")
    if status is ActionStatus.not_adopted and not reason:
        raise InvalidInput("say why the recommendation is not adopted")
    with store.db.writing() as session:
        row = session.get(LessonAction, lesson_id)
        if status is ActionStatus.open:
            if row is not None:
                session.delete(row)
            return None
        row = row or LessonAction(lesson_id=lesson_id, status=status, actor=by.label)
        row.status = status
        row.target_id = target.id if target else None
        row.target_version = target.version if target else None
        row.reason = reason[:5000]
        row.actor = by.label
        row.at = utcnow()
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def actions(store: SqlStore, lesson_ids: Sequence[str] | None = None) -> dict[str, LessonAction]:
    """Action rows by lesson id (all of them, or those of ``lesson_ids``); a lesson without one is open."""
    with store.db.reading() as session:
        query = select(LessonAction)
        if lesson_ids is not None:
            query = query.where(col(LessonAction.lesson_id).in_(list(lesson_ids)))
        return {row.lesson_id: row for row in session.exec(query)}


def action_of(store: SqlStore, lesson_id: str) -> LessonAction | None:
    return actions(store, [lesson_id]).get(lesson_id)


def adopted_into(store: SqlStore, target_id: str) -> list[LessonAction]:
    """The lessons whose recommendation template or procedure ``target_id`` carries."""
    with store.db.reading() as session:
        query = select(LessonAction).where(LessonAction.target_id == target_id)
        return list(session.exec(query.order_by(col(LessonAction.at))))
