"""HTML pages, rendered on the server and usable without JavaScript.

Every page gets the reader's language (``lang``), a translation function
(``t``) and the CSRF token its forms post back. All values reach the templates
as data; Jinja2's autoescaping is on for every ``.html`` template, and the only
HTML marked safe is the Markdown renderer's output (raw HTML off).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app import briefs as app_briefs
from app import documents as app_documents
from app import home as app_home
from app import intake as app_intake
from app import search as app_search
from kb.errors import InvalidInput, KbError
from kb.identity.access import ANONYMOUS, Principal
from kb.pmo import actions, lifecycle
from kb.record.models import Kind, Status
from kb.search.searcher import Filters
from web.auth import principal_of
from web.deps import LANG_COOKIE, CsrfDep, KbDep, LangDep, Role, caller_of, csrf_token, requires, set_csrf_cookie
from web.display import source_label
from web.downloads import original_response
from web.i18n import LANGUAGES, translate
from web.schemas import LessonIn, RetrospectiveCreate

router = APIRouter(include_in_schema=False)
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]
AdminDep = Annotated[Principal, Depends(requires(Role.pmo_admin))]
Many = Annotated[list[str], Query()]
PAGE_SIZE = 10
FACET_PARAM = {
    "kind": "kind",
    "project": "project",
    "phase": "phase",
    "tags": "tag",
    "language": "language",
    "status": "status",
}


def render(request: Request, name: str, lang: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    try:
        who = principal_of(request)
    except KbError:  # a bad token on an error page: render it for nobody
        who = ANONYMOUS
    values = {"lang": lang, "t": t, "csrf": csrf_token(request), "who": who, "Role": Role, **context}
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, values, status_code=status_code
    )
    set_csrf_cookie(request, response)
    return response


def _query_string(params: list[tuple[str, str]]) -> str:
    return "?" + urlencode(params) if params else ""


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    kind: Many = [],  # noqa: B006 - FastAPI copies defaults per request
    project: Many = [],  # noqa: B006
    phase: Many = [],  # noqa: B006
    tag: Many = [],  # noqa: B006
    language: Many = [],  # noqa: B006
    status: Many = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    explain: bool = False,
    weak: bool = False,
) -> HTMLResponse:
    """Search with facets, snippets and paging; the landing page when there is no query."""
    values = {"kind": kind, "project": project, "phase": phase, "tag": tag, "language": language, "status": status}
    filters = Filters.of(kinds=kind, projects=project, phases=phase, tags=tag, languages=language, statuses=status)
    params = [(name, v) for name, vs in values.items() for v in vs]
    context: dict[str, Any] = {"q": q, "values": values, "explain": explain, "page": page}
    if q.strip():
        result = app_search.search(
            kb,
            caller=caller_of(request, who),
            query=q,
            filters=filters,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            mode="hybrid",
            weak=weak,
        )

        folding = kb.searcher.folding

        def chosen(facet: str, value: str) -> bool:
            """Whether a filter asks for ``value`` in any spelling (a link may say テスト for the test facet)."""
            return any(n == FACET_PARAM[facet] and folding.same(facet, v, value) for n, v in params)

        def toggle(facet: str, value: str) -> str:
            name = FACET_PARAM[facet]
            current = [(n, v) for n, v in params if not (n == name and folding.same(facet, v, value))]
            if len(current) == len(params):
                current.append((name, value))
            return "/" + _query_string([("q", q), *current])

        def page_url(number: int) -> str:
            return "/" + _query_string([("q", q), *params, *([("weak", "1")] if weak else []), ("page", str(number))])

        context.update(
            result=result,
            toggle=toggle,
            chosen=chosen,
            page_url=page_url,
            selected=set(params),
            pages=(result.total + PAGE_SIZE - 1) // PAGE_SIZE,
            clear_url="/" + _query_string([("q", q)]),
            weak_url="/" + _query_string([("q", q), *params, ("weak", "1")]),
            weak=weak,
        )
    else:
        counts = kb.store.counts()
        context.update(
            empty=sum(v for k, v in counts.items() if k in {k.value for k in Kind}) == 0,
            home=app_home.home(kb, caller=caller_of(request, who)),
        )
    return render(request, "search.html", lang, **context)


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, doc_id: str) -> HTMLResponse:
    doc = app_documents.get(kb, caller=caller_of(request, who), doc_id=doc_id)
    parent = kb.store.get_many([doc.parent_id]) if doc.parent_id else []
    context: dict[str, Any] = {}
    if doc.kind in (Kind.template, Kind.procedure):
        family = lifecycle.family(app_documents.listed(kb, caller=caller_of(request, who), kind=doc.kind), doc)
        adopted = actions.adopted_into(kb.store, doc.id)
        context.update(
            versions=family if len(family) > 1 else [],
            current=lifecycle.current_version(family),
            moves=lifecycle.allowed_actions(doc, who),
            events=lifecycle.history(kb.store, doc.id),
            carries=_visible_docs(kb, who, [a.lesson_id for a in adopted]),
        )
    if doc.kind is Kind.lesson:
        row = actions.action_of(kb.store, doc.id)
        target = _visible_docs(kb, who, [row.target_id]) if row and row.target_id else []
        standards = [
            d
            for k in (Kind.template, Kind.procedure)
            for d in app_documents.listed(kb, caller=caller_of(request, who), kind=k)
        ]
        context.update(
            cluster=next(
                (
                    c
                    for c in app_briefs.recurring(kb, caller=caller_of(request, who))
                    if doc.id in {d.id for d in c.lessons}
                ),
                None,
            ),
            action=row,
            action_target=target[0] if target else None,
            standards=[d for d in standards if d.status in lifecycle.CURRENT],
        )
    return render(
        request,
        "document.html",
        lang,
        doc=doc,
        parent=next((p for p in parent if who.can_see(p.groups)), None),
        children=[c for c in kb.store.children(doc.id) if who.can_see(c.groups)],
        related=app_documents.related(kb, caller=caller_of(request, who), doc=doc),
        source_name=source_label(doc.source_path),
        can_edit=who.can_edit(doc),
        **context,
    )


def _visible_docs(kb: KbDep, who: Principal, ids: list[str]) -> list[Any]:
    return sorted((d for d in kb.store.get_many(ids) if who.can_see(d.groups)), key=lambda d: d.title)


@router.get("/documents/{doc_id}/original")
def document_original(request: Request, kb: KbDep, who: ReaderDep, doc_id: str) -> Response:
    return original_response(app_documents.get(kb, caller=caller_of(request, who), doc_id=doc_id), kb)


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, all: bool = False) -> HTMLResponse:
    """Templates and procedures by category: current versions only (``?all=1``: superseded and archived too)."""
    groups: dict[str, dict[str, list[Any]]] = {}
    vocabulary = request.app.state.vocabulary
    order = {Status.published: 0, Status.in_review: 1, Status.draft: 2, Status.superseded: 3, Status.archived: 4}
    for kind in (Kind.template, Kind.procedure):
        by_category: dict[str, list[Any]] = defaultdict(list)
        for doc in app_documents.listed(kb, caller=caller_of(request, who), kind=kind):
            if all or doc.status in lifecycle.CURRENT:
                by_category[vocabulary.canonical("category", doc.category) or ""].append(doc)
        groups[kind.value] = {
            c: sorted(docs, key=lambda d: (order[d.status], d.title))
            for c, docs in sorted(by_category.items(), key=lambda i: _category_order(vocabulary, i[0], lang))
        }
    return render(request, "library.html", lang, groups=groups, today=dt.date.today(), all=all)


@router.get("/faq", response_class=HTMLResponse)
def faq_page(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    category: str = "",
) -> HTMLResponse:
    """FAQs by category; with ``q``, a search within FAQs."""
    result = None
    if q.strip():
        result = app_search.search(
            kb, caller=caller_of(request, who), query=q, filters=Filters(kinds=("faq",)), limit=20
        )
    by_category: dict[str, list[Any]] = defaultdict(list)
    vocabulary = request.app.state.vocabulary
    for doc in app_documents.listed(kb, caller=caller_of(request, who), kind=Kind.faq):
        by_category[vocabulary.canonical("category", doc.category) or ""].append(doc)
    categories = dict(sorted(by_category.items(), key=lambda i: _category_order(vocabulary, i[0], lang)))
    return render(request, "faq.html", lang, q=q, result=result, categories=categories, category=category)


def _category_order(vocabulary: Any, category: str, lang: str) -> tuple[bool, str]:
    """Categories by their label in the reader's language; documents without one last."""
    return (category == "", vocabulary.label("category", category, lang))


@router.get("/retrospectives/new", response_class=HTMLResponse)
def retrospective_form(request: Request, who: ContributorDep, lang: LangDep) -> HTMLResponse:
    return render(request, "retrospective.html", lang, form={}, lessons=[{}, {}, {}], errors=[])


@router.post("/retrospectives", response_class=HTMLResponse, dependencies=[CsrfDep])
def retrospective_submit(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    title: Annotated[str, Form()] = "",
    project: Annotated[str, Form()] = "",
    phase: Annotated[str, Form()] = "",
    doc_date: Annotated[str, Form()] = "",
    went_well: Annotated[str, Form()] = "",
    went_wrong: Annotated[str, Form()] = "",
    groups: Annotated[list[str], Form()] = [],  # noqa: B006
    lesson_title: Annotated[list[str], Form()] = [],  # noqa: B006
    driving_event: Annotated[list[str], Form()] = [],  # noqa: B006
    lesson: Annotated[list[str], Form()] = [],  # noqa: B006
    recommendation: Annotated[list[str], Form()] = [],  # noqa: B006
    action: Annotated[str, Form()] = "save",
) -> Response:
    """Save the retrospective (split into lessons, searchable at once), or add a lesson block and show it again."""
    form = {
        "title": title,
        "project": project,
        "phase": phase,
        "doc_date": doc_date,
        "went_well": went_well,
        "went_wrong": went_wrong,
        "groups": groups,
    }
    rows = [
        {"title": a, "driving_event": b, "lesson": c, "recommendation": d}
        for a, b, c, d in zip(
            _pad(lesson_title, lesson), _pad(driving_event, lesson), lesson, _pad(recommendation, lesson), strict=True
        )
    ]
    if action == "add":
        return render(request, "retrospective.html", lang, form=form, lessons=[*rows, {}], errors=[])
    filled = [r for r in rows if r["lesson"].strip()]
    try:
        data = RetrospectiveCreate(
            title=title.strip(),
            project=project.strip() or None,
            phase=phase.strip() or None,
            doc_date=dt.date.fromisoformat(doc_date) if doc_date else None,
            went_well=[x for x in went_well.splitlines() if x.strip()],
            went_wrong=[x for x in went_wrong.splitlines() if x.strip()],
            groups=[g for g in groups if g],
            lessons=[
                LessonIn(
                    title=r["title"] or None,
                    driving_event=r["driving_event"] or None,
                    lesson=r["lesson"],
                    recommendation=r["recommendation"] or None,
                )
                for r in filled
            ],
        )
    except (ValidationError, ValueError) as exc:
        errors = _form_errors(exc, lang)
        return render(
            request, "retrospective.html", lang, status_code=422, form=form, lessons=rows or [{}], errors=errors
        )
    retro, *_ = app_intake.save_retrospective(kb, caller=caller_of(request, who), entry=data.entry())
    return RedirectResponse(f"/documents/{retro.id}", status_code=303)


def _pad(values: list[str], like: list[str]) -> list[str]:
    return (values + [""] * len(like))[: len(like)]


def _form_errors(exc: Exception, lang: str) -> list[str]:
    if isinstance(exc, ValidationError):
        names = {"title": translate("title", lang), "lessons": translate("lessons", lang)}
        return [f"{names.get(str(e['loc'][0]), str(e['loc'][0]))}: {e['msg']}" for e in exc.errors()]
    return [f"{translate('date', lang)}: {exc}"]


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, who: ContributorDep, lang: LangDep) -> HTMLResponse:
    return render(request, "upload.html", lang, reports=None, kinds=list(Kind))


@router.post("/upload", response_class=HTMLResponse, dependencies=[CsrfDep])
async def upload_submit(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    files: Annotated[list[UploadFile], File()],
    kind: Annotated[str, Form()] = "",
) -> HTMLResponse:
    limit = kb.settings.max_file_bytes
    contents = [(f.filename or "upload", await f.read(limit + 1)) for f in files if f.filename]
    try:
        hint = Kind(kind) if kind else None
    except ValueError as exc:
        raise InvalidInput(f"unknown kind {kind!r}") from exc
    reports = await run_in_threadpool(
        partial(app_intake.upload, kb, caller=caller_of(request, who), files_in=contents, kind=hint)
    )  # off the event loop
    return render(request, "upload.html", lang, reports=reports, kinds=list(Kind))


@router.post("/feedback", dependencies=[CsrfDep])
def feedback(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    query: Annotated[str, Form()],
    document_id: Annotated[str, Form()],
    helpful: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/",
) -> Response:
    app_documents.feedback(
        kb, caller=caller_of(request, who), query=query, doc_id=document_id, helpful=helpful == "yes"
    )
    return RedirectResponse(_local(back) + ("&" if "?" in back else "?") + "thanks=1", status_code=303)


@router.post("/demo", dependencies=[CsrfDep])
def load_demo(request: Request, kb: KbDep, who: AdminDep) -> Response:
    """Load the demo knowledge base into an empty data dir (offered to PMO admins on the empty landing page)."""
    app_intake.load_demo(kb, caller=caller_of(request, who))
    return RedirectResponse("/", status_code=303)


@router.get("/insights", response_class=HTMLResponse, dependencies=[Depends(requires(Role.pmo_admin))])
def insights_page(request: Request, kb: KbDep, lang: LangDep) -> HTMLResponse:
    """What people search for and do not find, feedback on results, and content past its review date."""
    report = app_search.report(kb)
    titles = {d.id: d.title for d in kb.store.get_many([doc_id for doc_id, _, _ in report.feedback])}
    today = dt.date.today()
    stale = [
        d
        for kind in (Kind.template, Kind.procedure)
        for d in kb.store.documents(kind=kind)
        if d.review_by and d.review_by < today and d.status is Status.published
    ]
    return render(request, "insights.html", lang, report=report, titles=titles, stale=stale)


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(_local(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response


def _local(target: str) -> str:
    """Only same-site paths: never redirect to another host (``//evil``, ``https://evil``, ``/\\evil``)."""
    if not target.startswith("/") or target.startswith("//") or target.startswith("/\\"):
        return "/"
    return target
