"""The kickoff brief: a form, the reading list, exports (Markdown, printable page) and saved briefs.

Everything works without JavaScript: the result page is itself a form that
carries the description back (hidden fields) with a checkbox per item, and
its buttons save the brief to a project, download it as Markdown or open a
printable page. The brief is recomputed from the description each time (a few
searches), so nothing is kept on the server until it is saved.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app import briefs as app_briefs
from kb.identity.access import Principal
from kb.pmo.brief import KINDS as BRIEF_KINDS
from kb.pmo.brief import Brief, BriefRequest, to_markdown
from web.deps import CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.pages import render
from web.schemas import NOT_BLANK, Incoming, RowId, Translation

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]
Text = Annotated[str, Form(max_length=200)]
BUDGETS = ("", "small", "medium", "large")


def _request(
    description: str, project_type: str, phase: str, vendors: str, technologies: str, budget: str
) -> BriefRequest:
    def split(value: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in value.replace("、", ",").split(",") if v.strip())

    return BriefRequest(
        description=description.strip(),
        project_type=project_type.strip(),
        phase=phase.strip(),
        vendors=split(vendors),
        technologies=split(technologies),
        budget=budget.strip(),
    )


def posted_request(
    description: Annotated[str, Form(max_length=10_000)] = "",
    project_type: Text = "",
    phase: Text = "",
    vendors: Text = "",
    technologies: Text = "",
    budget: Text = "",
) -> BriefRequest:
    """The brief request a form posts (the form itself, or the result page carrying it back in hidden fields)."""
    return _request(description, project_type, phase, vendors, technologies, budget)


PostedRequest = Annotated[BriefRequest, Depends(posted_request)]


def _form(r: BriefRequest) -> dict[str, str]:
    return {
        "description": r.description,
        "project_type": r.project_type,
        "phase": r.phase,
        "vendors": ", ".join(r.vendors),
        "technologies": ", ".join(r.technologies),
        "budget": r.budget,
    }


@pages.get("/brief", response_class=HTMLResponse)
def brief_form(request: Request, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    """Describe the new project."""
    return render(request, "brief.html", lang, form=_form(BriefRequest("")), brief=None, budgets=BUDGETS)


@pages.post("/brief", response_class=HTMLResponse, dependencies=[CsrfDep])
def brief_result(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, req: PostedRequest) -> HTMLResponse:
    """The reading list for the description, each item with its reason and a checkbox."""
    if not req.description:
        return render(request, "brief.html", lang, 422, form=_form(req), brief=None, budgets=BUDGETS, missing=True)
    brief = app_briefs.make(kb, caller=caller_of(request, who), request=req)
    return render(request, "brief.html", lang, form=_form(req), brief=brief, budgets=BUDGETS, read=set())


@pages.post("/brief/export", dependencies=[CsrfDep])
def brief_export(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    req: PostedRequest,
    format: Annotated[str, Form()] = "md",
    project: Text = "",
    read: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults per request
) -> Response:
    """The brief as a Markdown checklist download, or as a printable page."""
    brief = app_briefs.make(kb, caller=caller_of(request, who), request=req, audited=False)
    if format == "print":
        return render(request, "brief_print.html", lang, brief=brief, read=set(read), project=project.strip())
    return _markdown(request, brief, set(read), project.strip())


def _markdown(request: Request, brief: Brief, read: set[str], project: str) -> Response:
    base = str(request.base_url).rstrip("/")
    text = to_markdown(brief, read=read, base_url=base, title=f"Kickoff brief: {project}" if project else "")
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kickoff-brief.md"'},
    )


@pages.post("/brief/save", dependencies=[CsrfDep])
def brief_save(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    req: PostedRequest,
    project: Text = "",
    read: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save the brief to a project with the items ticked as read."""
    row, _ = app_briefs.save(kb, caller=caller_of(request, who), request=req, project=project, read=read)
    return RedirectResponse(f"/briefs/{row.id}", status_code=303)


@pages.get("/briefs", response_class=HTMLResponse)
def briefs_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    shelf = app_briefs.saved(kb, caller=caller_of(request, who))
    return render(request, "briefs.html", lang, briefs=shelf.briefs, names=shelf.names)


@pages.get("/briefs/{brief_id}", response_class=HTMLResponse)
def saved_brief_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, brief_id: RowId) -> HTMLResponse:
    view = app_briefs.saved_one(kb, caller=caller_of(request, who), brief_id=brief_id)
    kinds = [*BRIEF_KINDS, *sorted({str(i.get("kind")) for i in view.saved.items} - set(BRIEF_KINDS))]
    return render(
        request,
        "brief_saved.html",
        lang,
        saved=view.saved,
        can_edit=view.can_edit,
        names=view.names,
        brief_kinds=kinds,
        grouped=BRIEF_KINDS,
    )


@pages.post("/briefs/{brief_id}", dependencies=[CsrfDep])
def saved_brief_update(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    brief_id: RowId,
    read: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Tick or untick items of a saved brief."""
    app_briefs.mark_read(kb, caller=caller_of(request, who), brief_id=brief_id, read=read)
    return RedirectResponse(f"/briefs/{brief_id}", status_code=303)


@pages.get("/briefs/{brief_id}/markdown")
def saved_brief_markdown(request: Request, kb: KbDep, who: ReaderDep, brief_id: RowId) -> Response:
    """A saved brief as a Markdown checklist, ticks included (recomputed from its description, as it is now)."""
    again = app_briefs.remade(kb, caller=caller_of(request, who), brief_id=brief_id)
    return _markdown(request, again.brief, again.read, again.project)


class BriefIn(Incoming):
    description: str = Field(min_length=1, max_length=10_000, description="The new project, in Japanese or English")
    project_type: str = Field(default="", max_length=200)
    phase: str = Field(default="", max_length=200)
    vendors: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    budget: str = Field(default="", max_length=200, description="small, medium, large or free text")

    def request(self) -> BriefRequest:
        return BriefRequest(
            self.description, self.project_type, self.phase, tuple(self.vendors), tuple(self.technologies), self.budget
        )


class BriefSaveIn(BriefIn):
    project: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    read: list[str] = Field(default_factory=list, description="Ids of the items already read")


class BriefItemPublic(BaseModel):
    id: str
    kind: str
    title: str
    project: str | None
    language: str
    reason: str
    reason_field: str
    matched_words: list[str] = Field(description="The reason's words the document holds, as the reason writes them")
    via_translation: list[Translation]
    similar_meaning: bool = Field(description="The reason and the document are close in meaning")
    recommendation: str | None
    recurring_projects: list[str]
    also: list[str] = Field(description="Ids of other lessons of the same recurring problem, folded into this item")


class BriefPublic(BaseModel):
    groups: dict[str, list[BriefItemPublic]]
    took_ms: float
    markdown: str
    saved_id: int | None = None

    @classmethod
    def of(cls, brief: Brief, base_url: str, saved_id: int | None = None) -> BriefPublic:
        groups = {
            kind: [
                BriefItemPublic(
                    id=i.document.id,
                    kind=i.document.kind,
                    title=i.document.title,
                    project=i.document.project,
                    language=i.document.language,
                    reason=i.reason,
                    reason_field=i.reason_field,
                    matched_words=i.matched,
                    via_translation=[Translation(query=q, document=d) for q, d in i.via_translation],
                    similar_meaning=i.similar_meaning,
                    recommendation=i.recommendation,
                    recurring_projects=i.cluster.projects if i.cluster and i.cluster.recurring else [],
                    also=[d.id for d in i.also],
                )
                for i in items
            ]
            for kind, items in brief.groups.items()
        }
        return cls(
            groups=groups,
            took_ms=round(brief.took_ms, 1),
            markdown=to_markdown(brief, base_url=base_url),
            saved_id=saved_id,
        )


@api.post("/brief", response_model=BriefPublic)
def brief_api(request: Request, kb: KbDep, who: ReaderDep, body: BriefIn) -> BriefPublic:
    """A kickoff brief: lessons, templates, procedures and FAQs for a new project's description, with reasons."""
    brief = app_briefs.make(kb, caller=caller_of(request, who), request=body.request())
    return BriefPublic.of(brief, str(request.base_url).rstrip("/"))


@api.post("/briefs", response_model=BriefPublic, status_code=201)
def brief_save_api(request: Request, kb: KbDep, who: ContributorDep, body: BriefSaveIn) -> BriefPublic:
    """Make a brief and save it to ``project`` with the items in ``read`` ticked."""
    row, brief = app_briefs.save(
        kb, caller=caller_of(request, who), request=body.request(), project=body.project, read=body.read
    )
    return BriefPublic.of(brief, str(request.base_url).rstrip("/"), saved_id=row.id)
