"""Routes for the standards lifecycle and the lesson loop: moves, diffs, reviews, action status.

The moves themselves are ``kb.pmo.lifecycle`` and ``kb.pmo.actions``; these routes
parse the form or JSON, call ``app.standards`` (which audits and re-indexes)
and answer with a redirect back to the document or JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app import feedback as app_feedback
from app import standards as app_standards
from kb.errors import InvalidInput
from kb.identity.access import Principal
from kb.pmo.lifecycle import Action
from kb.record.models import ActionStatus
from web.deps import CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.pages import render
from web.schemas import DocumentPublic, Incoming

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]


def _action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError as exc:
        raise InvalidInput(f"unknown action {value!r}: one of {', '.join(a.value for a in Action)}") from exc


def _status(value: str) -> ActionStatus:
    try:
        return ActionStatus(value)
    except ValueError as exc:
        raise InvalidInput(f"unknown action status {value!r}") from exc


@pages.post("/documents/{doc_id}/lifecycle", dependencies=[CsrfDep])
def lifecycle_form(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    doc_id: str,
    action: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Submit, approve, return (with a comment), supersede, archive or verify a template or procedure."""
    app_standards.move(kb, caller=caller_of(request, who), doc_id=doc_id, action=_action(action), comment=comment)
    return RedirectResponse(f"/documents/{doc_id}", status_code=303)


@pages.post("/documents/{doc_id}/action", dependencies=[CsrfDep])
def lesson_action_form(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    doc_id: str,
    status: Annotated[str, Form()],
    target_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Mark a lesson adopted (into a template or procedure version), not adopted (with a reason) or open."""
    app_standards.set_lesson_action(
        kb,
        caller=caller_of(request, who),
        lesson_id=doc_id,
        status=_status(status),
        target_id=target_id or None,
        reason=reason,
    )
    return RedirectResponse(f"/documents/{doc_id}", status_code=303)


@pages.get("/documents/{doc_id}/diff", response_class=HTMLResponse)
def diff_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, doc_id: str, against: str) -> HTMLResponse:
    """What changed between two versions of one template or procedure."""
    found = app_standards.diff(kb, caller=caller_of(request, who), doc_id=doc_id, against=against)
    return render(request, "diff.html", lang, new=found.new, old=found.old, lines=found.lines)


@pages.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, kb: KbDep, who: ContributorDep, lang: LangDep) -> HTMLResponse:
    """Standards waiting for review, my drafts (and what came back), and my overdue reviews."""
    found = app_standards.review_queue(kb, caller=caller_of(request, who))
    reported = app_feedback.outdated(kb, caller=caller_of(request, who))
    return render(request, "reviews.html", lang, **vars(found), reported=reported)


class MoveIn(Incoming):
    action: Action
    comment: str = Field(default="", max_length=5000)


class LessonActionIn(Incoming):
    status: ActionStatus
    target_id: str | None = None
    reason: str = Field(default="", max_length=5000)


class LessonActionPublic(BaseModel):
    lesson_id: str
    status: ActionStatus
    target_id: str | None = None
    target_version: str | None = None
    reason: str = ""


@api.post("/documents/{doc_id}/lifecycle", response_model=DocumentPublic)
def lifecycle_api(request: Request, kb: KbDep, who: ContributorDep, doc_id: str, body: MoveIn) -> DocumentPublic:
    """A lifecycle move: contributors submit their drafts; PMO admins approve, return, supersede, archive."""
    moved = app_standards.move(
        kb, caller=caller_of(request, who), doc_id=doc_id, action=body.action, comment=body.comment
    )
    return DocumentPublic.of(moved.document)


@api.post("/documents/{doc_id}/action", response_model=LessonActionPublic)
def lesson_action_api(
    request: Request, kb: KbDep, who: ContributorDep, doc_id: str, body: LessonActionIn
) -> LessonActionPublic:
    """Set a lesson's action status; ``adopted`` names the template or procedure that carries it."""
    row = app_standards.set_lesson_action(
        kb,
        caller=caller_of(request, who),
        lesson_id=doc_id,
        status=body.status,
        target_id=body.target_id,
        reason=body.reason,
    )
    if row is None:
        return LessonActionPublic(lesson_id=doc_id, status=ActionStatus.open)
    return LessonActionPublic.model_validate(row, from_attributes=True)
