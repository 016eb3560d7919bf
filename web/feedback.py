"""Feedback forms on search hits and document pages, and closing an "outdated" report from the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import feedback as app_feedback
from kb.errors import InvalidInput
from kb.identity.access import Principal
from kb.record.models import Verdict
from web.deps import CsrfDep, KbDep, Role, caller_of, requires
from web.pages import _local
from web.schemas import RowId

router = APIRouter(include_in_schema=False)
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]


def _with(url: str, param: str) -> str:
    """``url`` with ``param`` added once (a second rating on the same page does not stack ``thanks=1``)."""
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p != param]
    return base + "?" + "&".join([*kept, param])


@router.post("/feedback", dependencies=[CsrfDep])
def feedback(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    document_id: Annotated[str, Form(max_length=64)],
    verdict: Annotated[str, Form(max_length=32)] = "",
    helpful: Annotated[str, Form(max_length=8)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=4000)] = "/",
) -> Response:
    """Helpful, not helpful or outdated (``helpful=yes/no`` from older pages still works), with a comment."""
    if not verdict and helpful:
        verdict = Verdict.helpful.value if helpful == "yes" else Verdict.not_helpful.value
    try:
        chosen = Verdict(verdict)
    except ValueError as exc:
        raise InvalidInput("choose helpful, not helpful or outdated") from exc
    app_feedback.give(
        kb, caller=caller_of(request, who), doc_id=document_id, verdict=chosen, query=query, comment=comment
    )
    return RedirectResponse(_with(_local(back), "thanks=1") + f"#hit-{document_id}", status_code=303)


@router.post("/feedback/{feedback_id}/resolve", dependencies=[CsrfDep])
def resolve(request: Request, kb: KbDep, who: ReaderDep, feedback_id: RowId) -> Response:
    """The owner (or a PMO admin) dealt with an outdated report: it leaves the queue."""
    app_feedback.resolve(kb, caller=caller_of(request, who), feedback_id=feedback_id)
    return RedirectResponse("/reviews?done=resolved#outdated-reports", status_code=303)
