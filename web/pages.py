"""HTML pages, rendered on the server and usable without JavaScript.

Every page gets the reader's language (``lang``), a translation function
(``t``) and the CSRF token its forms post back. All values reach the templates
as data; Jinja2's autoescaping is on for every ``.html`` template, and the only
HTML marked safe is the Markdown renderer's output (raw HTML off).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app import choices as app_choices
from app import documents as app_documents
from app import home as app_home
from app import intake as app_intake
from app import search as app_search
from app import standards as app_standards
from app.standards import category_order
from kb.errors import InvalidInput, KbError
from kb.identity.access import ANONYMOUS, Principal
from kb.record.models import Kind
from kb.search.searcher import Filters
from web.auth import principal_of
from web.deps import LANG_COOKIE, CsrfDep, KbDep, LangDep, Role, caller_of, csrf_token, requires, set_csrf_cookie
from web.display import source_label
from web.downloads import file_response, original_response
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
    "language": "lang",  # the API's and the CLI's name; ``language`` is still read (older links)
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
    language_filter: Annotated[list[str], Query(alias="lang")] = [],  # noqa: B006 - ``lang`` is the UI language
    language: Many = [],  # noqa: B006 - the old name of ``lang``: bookmarked searches keep working
    status: Many = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    explain: bool = False,
    weak: bool = False,
) -> HTMLResponse:
    """Search with facets, snippets and paging; the landing page when there is no query."""
    languages = [*language_filter, *language]
    values = {"kind": kind, "project": project, "phase": phase, "tag": tag, "lang": languages, "status": status}
    filters = Filters.of(kinds=kind, projects=project, phases=phase, tags=tag, languages=languages, statuses=status)
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

        folding = app_search.folding(kb)

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
        context.update(vars(app_home.landing(kb, caller=caller_of(request, who))))
    return render(request, "search.html", lang, **context)


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, doc_id: str) -> HTMLResponse:
    view = app_documents.page(kb, caller=caller_of(request, who), doc_id=doc_id)
    source_name = source_label(view.doc.source_path)
    return render(request, "document.html", lang, source_name=source_name, **vars(view))


@router.get("/documents/{doc_id}/original")
def document_original(request: Request, kb: KbDep, who: ReaderDep, doc_id: str) -> Response:
    return original_response(app_documents.original(kb, caller=caller_of(request, who), doc_id=doc_id))


@router.get("/documents/{doc_id}/docx")
def document_word(request: Request, kb: KbDep, who: ReaderDep, doc_id: str) -> Response:
    """The document as a Word file to fill in (a template kept as Markdown), named after its title."""
    made = app_documents.as_word(kb, caller=caller_of(request, who), doc_id=doc_id)
    return file_response(made.filename, made.data, made.media_type)


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep, all: bool = False) -> HTMLResponse:
    """Templates and procedures by category: current versions only (``?all=1``: superseded and archived too)."""
    shelf = app_standards.library(
        kb, caller=caller_of(request, who), vocabulary=request.app.state.vocabulary, everything=all, lang=lang
    )
    return render(request, "library.html", lang, groups=shelf.groups, names=shelf.names, today=dt.date.today(), all=all)


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
    categories = dict(sorted(by_category.items(), key=lambda i: category_order(vocabulary, i[0], lang)))
    return render(request, "faq.html", lang, q=q, result=result, categories=categories, category=category)


TAG_INPUTS = 3  # empty tag inputs a form offers (besides the tags already given)


def tag_list(values: list[str]) -> list[str]:
    """Tags from the form's tag inputs; one input may hold several, separated by commas (、 too). No repeats."""
    tags: list[str] = []
    for value in values:
        for tag in re.split(r"[,、，;；]", value):
            if tag.strip() and tag.strip() not in tags:
                tags.append(tag.strip())
    return tags


def tag_inputs(tags: list[str]) -> list[str]:
    """The values of a form's tag inputs: the tags given, then a few empty ones (at least ``TAG_INPUTS`` in all)."""
    return [*tags, *[""] * max(1, TAG_INPUTS - len(tags))]


def _retro_page(
    request: Request, kb: KbDep, who: Principal, lang: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The retrospective form, with the pick-lists of the projects, phases and tags the caller may see."""
    picks = app_choices.choices(kb, caller=caller_of(request, who), vocabulary=request.app.state.vocabulary, lang=lang)
    tags = context["form"].get("tags", [])
    return render(
        request, "retrospective.html", lang, status_code, choices=picks, tag_values=tag_inputs(tags), **context
    )


@router.get("/retrospectives/new", response_class=HTMLResponse)
def retrospective_form(request: Request, kb: KbDep, who: ContributorDep, lang: LangDep) -> HTMLResponse:
    return _retro_page(request, kb, who, lang, form={}, lessons=[{}, {}, {}], errors=[])


@router.post("/retrospectives", response_class=HTMLResponse, dependencies=[CsrfDep])
def retrospective_submit(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    title: Annotated[str, Form()] = "",
    project: Annotated[str, Form()] = "",
    phase: Annotated[str, Form()] = "",
    tags: Annotated[list[str], Form()] = [],  # noqa: B006
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
    given_tags = tag_list(tags)
    form = {
        "title": title,
        "project": project,
        "phase": phase,
        "tags": given_tags,
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
        return _retro_page(request, kb, who, lang, form=form, lessons=[*rows, {}], errors=[])
    filled = [r for r in rows if r["lesson"].strip()]
    try:
        data = RetrospectiveCreate(
            title=title.strip(),
            project=project.strip() or None,
            phase=phase.strip() or None,
            tags=given_tags,
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
        return _retro_page(request, kb, who, lang, 422, form=form, lessons=rows or [{}], errors=errors)
    retro, *_ = app_intake.save_retrospective(kb, caller=caller_of(request, who), entry=data.entry())
    return RedirectResponse(f"/documents/{retro.id}", status_code=303)


def _pad(values: list[str], like: list[str]) -> list[str]:
    return (values + [""] * len(like))[: len(like)]


def _form_errors(exc: Exception, lang: str) -> list[str]:
    if isinstance(exc, ValidationError):
        names = {"title": translate("title", lang), "lessons": translate("lessons", lang)}
        return [f"{names.get(str(e['loc'][0]), str(e['loc'][0]))}: {e['msg']}" for e in exc.errors()]
    return [f"{translate('date', lang)}: {exc}"]


def _upload_page(request: Request, kb: KbDep, lang: str, **context: Any) -> HTMLResponse:
    """The upload form, the formats it takes (from the ingest registry), and what an upload did."""
    values: dict[str, Any] = {"uploaded": None, "kind": "", **context}
    return render(
        request,
        "upload.html",
        lang,
        kinds=list(Kind),
        max_mb=max(1, kb.settings.max_file_bytes // (1024 * 1024)),
        formats=app_intake.formats(),
        fields=app_intake.FIELDS,
        **values,
    )


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, kb: KbDep, who: ContributorDep, lang: LangDep) -> HTMLResponse:
    return _upload_page(request, kb, lang)


def _kind(kind: str) -> Kind | None:
    try:
        return Kind(kind) if kind else None
    except ValueError as exc:
        raise InvalidInput(f"unknown kind {kind!r}") from exc


@router.post("/upload", response_class=HTMLResponse, dependencies=[CsrfDep])
async def upload_submit(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    files: Annotated[list[UploadFile], File()],
    kind: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Store the files; link what each made, and offer a column mapping for a sheet whose header was not known."""
    limit = kb.settings.max_file_bytes
    contents = [(f.filename or "upload", await f.read(limit + 1)) for f in files if f.filename]
    uploaded = await run_in_threadpool(
        partial(app_intake.upload_files, kb, caller=caller_of(request, who), files_in=contents, kind=_kind(kind))
    )  # off the event loop
    return _upload_page(request, kb, lang, uploaded=uploaded, kind=kind)


@router.post("/upload/map", response_class=HTMLResponse, dependencies=[CsrfDep])
async def upload_map(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    token: Annotated[str, Form(max_length=64)],
    column: Annotated[list[str], Form()] = [],  # noqa: B006 - the held sheet's column names, in order
    field: Annotated[list[str], Form()] = [],  # noqa: B006 - the field picked for each
    kind: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The mapping step: the held file (by token, never a path) ingested again with column → field."""
    mapping = {c: f for c, f in zip(column, field, strict=False) if c.strip()}
    uploaded = await run_in_threadpool(
        partial(
            app_intake.upload_mapped,
            kb,
            caller=caller_of(request, who),
            token=token,
            column_map=mapping,
            kind=_kind(kind),
        )
    )
    return _upload_page(request, kb, lang, uploaded=uploaded, kind=kind)


@router.post("/demo", dependencies=[CsrfDep])
def load_demo(request: Request, kb: KbDep, who: AdminDep) -> Response:
    """Load the demo knowledge base into an empty data dir (offered to PMO admins on the empty landing page)."""
    app_intake.load_demo(kb, caller=caller_of(request, who))
    return RedirectResponse("/", status_code=303)


@router.get("/insights", response_class=HTMLResponse)
def insights_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep) -> HTMLResponse:
    """What people search for and do not find, feedback on results, and content past its review date."""
    view = app_search.insights(kb, caller=caller_of(request, who))
    return render(request, "insights.html", lang, **vars(view))


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
