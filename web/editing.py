"""Editing and deleting a document in the browser, for whoever may change it (``kb.identity.access.can_edit``).

The edit form posts back to itself: ``preview`` renders the Markdown on the
server and shows the form again (no script needed; the CSP forbids inline
script anyway), ``save`` calls ``app.documents.revise``. A published template
or procedure becomes a new draft version for review instead of changing under
its readers (see ``revise``). Deleting asks first on a page of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import choices as app_choices
from app import documents as app_documents
from kb.errors import InvalidInput
from kb.identity.access import STANDARD_KINDS, Principal, check_edit
from kb.pmo import lifecycle
from kb.record.models import Document, Kind, Status
from web.deps import CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.pages import render, tag_inputs, tag_list

router = APIRouter(include_in_schema=False)
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]
TEXT = Annotated[str, Form(max_length=200_000)]
LINE = Annotated[str, Form(max_length=2000)]

# the fields the form shows for each kind, besides title, body, tags, project, phase
KIND_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.lesson: ("driving_event", "lesson", "recommendation", "impact", "category"),
    Kind.faq: ("question", "answer", "category"),
    Kind.template: ("version", "owner", "category", "review_by"),
    Kind.procedure: ("version", "owner", "category", "review_by"),
    Kind.retrospective: (),
}
LONG_FIELDS = frozenset({"driving_event", "lesson", "recommendation", "answer", "question"})


def _form_of(doc: Document) -> dict[str, str]:
    values = {k: "" if v is None else str(v) for k, v in doc.model_dump(include=set(app_documents.EDITABLE)).items()}
    values["tags"] = ", ".join(doc.tags)
    if _becomes_version(doc):
        values["version"] = lifecycle.next_version(doc.version)
    return values


def _becomes_version(doc: Document) -> bool:
    return doc.kind in STANDARD_KINDS and doc.status is Status.published


def _fields_of(form: dict[str, str]) -> dict[str, Any]:
    """Form text to document fields: tags split on commas (、 too), empty text as none, dates parsed."""
    fields: dict[str, Any] = {k: (v.strip() or None) for k, v in form.items() if k != "tags"}
    fields["title"] = form.get("title", "").strip()
    fields["body"] = form.get("body", "")
    fields["tags"] = [t.strip() for t in form.get("tags", "").replace("、", ",").split(",") if t.strip()]
    for name in ("review_by", "doc_date"):
        if fields.get(name):
            try:
                fields[name] = dt.date.fromisoformat(str(fields[name]))
            except ValueError as exc:
                raise InvalidInput(f"{name}: write the date as YYYY-MM-DD") from exc
    if not fields["title"]:
        raise InvalidInput("title: a document needs a title")
    return fields


def _editable(request: Request, kb: KbDep, who: Principal, doc_id: str) -> Document:
    doc = app_documents.get(kb, caller=caller_of(request, who), doc_id=doc_id)
    check_edit(who, doc)
    return doc


def _edit_page(
    request: Request, kb: KbDep, who: Principal, lang: str, doc: Document, form: dict[str, str], **extra: Any
) -> HTMLResponse:
    context: dict[str, Any] = {"preview": None, "error": None, "status_code": 200, **extra}
    picks = app_choices.choices(kb, caller=caller_of(request, who), vocabulary=request.app.state.vocabulary, lang=lang)
    return render(
        request,
        "edit.html",
        lang,
        choices=picks,
        tag_values=tag_inputs(tag_list([form.get("tags", "")])),
        doc=doc,
        form=form,
        fields=KIND_FIELDS.get(doc.kind, ()),
        long_fields=LONG_FIELDS,
        new_version=_becomes_version(doc),
        **context,
    )


@router.get("/documents/{doc_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, kb: KbDep, who: ContributorDep, lang: LangDep, doc_id: str) -> HTMLResponse:
    doc = _editable(request, kb, who, doc_id)
    return _edit_page(request, kb, who, lang, doc, _form_of(doc))


@router.post("/documents/{doc_id}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def edit_submit(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    doc_id: str,
    title: LINE = "",
    body: TEXT = "",
    tags: Annotated[list[str], Form()] = [],  # noqa: B006 - one input per tag (``web.pages.tag_list``)
    project: LINE = "",
    phase: LINE = "",
    driving_event: TEXT = "",
    lesson: TEXT = "",
    recommendation: TEXT = "",
    impact: LINE = "",
    category: LINE = "",
    question: TEXT = "",
    answer: TEXT = "",
    version: LINE = "",
    owner: LINE = "",
    review_by: LINE = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    """Preview the Markdown, or save: in place, or as a new draft version of a published standard."""
    doc = _editable(request, kb, who, doc_id)
    shown = set(KIND_FIELDS.get(doc.kind, ()))
    given = {
        "title": title,
        "body": body,
        "tags": ", ".join(tag_list(tags)),
        "project": project,
        "phase": phase,
        "driving_event": driving_event,
        "lesson": lesson,
        "recommendation": recommendation,
        "impact": impact,
        "category": category,
        "question": question,
        "answer": answer,
        "version": version,
        "owner": owner,
        "review_by": review_by,
    }
    # fields the form did not show for this kind are not in the post: keep what the document has
    form = {**_form_of(doc), **{k: v for k, v in given.items() if k in shown or k in _COMMON}}
    if action == "preview":
        return _edit_page(request, kb, who, lang, doc, form, preview=form)
    try:
        saved = app_documents.revise(kb, caller=caller_of(request, who), doc_id=doc_id, fields=_fields_of(form))
    except InvalidInput as exc:
        return _edit_page(request, kb, who, lang, doc, form, error=exc.message, status_code=422)
    notice = "new_version" if saved.id != doc.id else "saved"
    return RedirectResponse(f"/documents/{saved.id}?done={notice}", status_code=303)


_COMMON = frozenset({"title", "body", "tags", "project", "phase"})


@router.get("/documents/{doc_id}/delete", response_class=HTMLResponse)
def delete_confirm(request: Request, kb: KbDep, who: ContributorDep, lang: LangDep, doc_id: str) -> HTMLResponse:
    """Ask before deleting: what goes (the document, and a retrospective's lessons stay)."""
    doc = _editable(request, kb, who, doc_id)
    return render(request, "delete.html", lang, doc=doc)


@router.post("/documents/{doc_id}/delete", dependencies=[CsrfDep])
def delete_submit(request: Request, kb: KbDep, who: ContributorDep, doc_id: str) -> Response:
    app_documents.delete(kb, caller=caller_of(request, who), doc_id=doc_id)
    return RedirectResponse("/?deleted=1", status_code=303)
