"""The JSON API under ``/api``: the same services as the pages, typed public schemas, JSON errors."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app import documents as app_documents
from app import feedback as app_feedback
from app import intake as app_intake
from app import maintenance
from app import search as app_search
from kb.identity.access import Principal
from kb.record.models import Kind
from kb.search.searcher import Filters
from web.deps import KbDep, Role, caller_of, requires
from web.downloads import original_response
from web.schemas import (
    DocumentCreate,
    DocumentPublic,
    FeedbackIn,
    FileResultPublic,
    RetrospectiveCreate,
    RetrospectiveCreated,
    SearchReportPublic,
    SearchResponse,
    StatsPublic,
    UploadResponse,
)

router = APIRouter(prefix="/api", tags=["api"])
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]
AdminDep = Annotated[Principal, Depends(requires(Role.pmo_admin))]
Many = Annotated[list[str] | None, Query()]


@router.get("/search", response_model=SearchResponse)
def search(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    q: Annotated[str, Query(max_length=2000, description="Query in Japanese or English")],
    kind: Many = None,
    project: Many = None,
    phase: Many = None,
    tag: Many = None,
    lang: Many = None,
    status: Many = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid",
    explain: bool = False,
    weak: Annotated[
        bool, Query(description="Also list matches below the confidence line (a query with none confident has total 0)")
    ] = False,
) -> SearchResponse:
    """Hybrid search with filters (repeat a parameter for several values), paging and explanations.

    Only confident matches count: a query none of whose matches reaches the confidence line answers
    ``total`` 0 and no hits, with ``weak`` telling how many weak matches ``weak=true`` would list.
    """
    filters = Filters.of(
        kinds=kind,
        projects=project,
        phases=phase,
        tags=tag,
        languages=lang,
        statuses=status,
        date_from=date_from,
        date_to=date_to,
    )
    result = app_search.search(
        kb, caller=caller_of(request, who), query=q, filters=filters, limit=limit, offset=offset, mode=mode, weak=weak
    )
    return SearchResponse.of(result, offset=offset, limit=limit, explain=explain)


@router.get("/documents/{doc_id}", response_model=DocumentPublic)
def get_document(request: Request, kb: KbDep, who: ReaderDep, doc_id: str) -> DocumentPublic:
    return DocumentPublic.of(app_documents.get(kb, caller=caller_of(request, who), doc_id=doc_id))


@router.get(
    "/documents/{doc_id}/original",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_original(request: Request, kb: KbDep, who: ReaderDep, doc_id: str) -> Response:
    """The original file the document was ingested from (templates and procedures from Word, Excel, PDF)."""
    return original_response(app_documents.original(kb, caller=caller_of(request, who), doc_id=doc_id))


@router.post("/documents", response_model=DocumentPublic, status_code=201)
def create_document(request: Request, kb: KbDep, who: ContributorDep, body: DocumentCreate) -> DocumentPublic:
    """Store a document. A non-admin's template or procedure is stored as a draft for PMO review."""
    return DocumentPublic.of(app_documents.create(kb, caller=caller_of(request, who), fields=body.model_dump()))


@router.put("/documents/{doc_id}", response_model=DocumentPublic)
def update_document(
    request: Request, kb: KbDep, who: ContributorDep, doc_id: str, body: DocumentCreate
) -> DocumentPublic:
    """Replace a document's fields: contributors may change what they created, PMO admins anything."""
    return DocumentPublic.of(
        app_documents.update(kb, caller=caller_of(request, who), doc_id=doc_id, fields=body.model_dump())
    )


@router.delete("/documents/{doc_id}", status_code=204)
def delete_document(request: Request, kb: KbDep, who: ContributorDep, doc_id: str) -> Response:
    """Delete a document: contributors may delete what they created, PMO admins anything."""
    app_documents.delete(kb, caller=caller_of(request, who), doc_id=doc_id)
    return Response(status_code=204)


@router.post("/retrospectives", response_model=RetrospectiveCreated, status_code=201)
def create_retrospective(
    request: Request, kb: KbDep, who: ContributorDep, body: RetrospectiveCreate
) -> RetrospectiveCreated:
    """Store a retrospective and one lesson per lesson given; all are searchable when this returns."""
    retro, *lessons = app_intake.save_retrospective(kb, caller=caller_of(request, who), entry=body.entry())
    return RetrospectiveCreated(retrospective=DocumentPublic.of(retro), lessons=[DocumentPublic.of(d) for d in lessons])


@router.post("/upload", response_model=UploadResponse)
async def upload(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    files: Annotated[list[UploadFile], File(min_length=1, description="One or more files")],
    kind: Annotated[Kind | None, Form(description="Kind for files that do not say")] = None,
) -> UploadResponse:
    """Ingest several files; each gets its own result (added, updated, unchanged, failed with the reason)."""
    limit = kb.settings.max_file_bytes
    contents = [(f.filename or "upload", await f.read(limit + 1)) for f in files]
    # async only to read the files; the ingest (~0.3 s a file) runs on a worker thread, never on the
    # event loop, where it stopped every other request until the whole batch was parsed
    reports = await run_in_threadpool(
        partial(app_intake.upload, kb, caller=caller_of(request, who), files_in=contents, kind=kind)
    )
    summary: dict[str, int] = {}
    for r in reports:
        summary[r.status.value] = summary.get(r.status.value, 0) + 1
    return UploadResponse(
        summary=summary,
        files=[
            FileResultPublic(filename=r.path, status=r.status.value, documents=r.documents, error=r.error)
            for r in reports
        ],
    )


@router.post("/feedback", status_code=204)
def feedback(
    request: Request, kb: KbDep, who: Annotated[Principal, Depends(requires(Role.reader))], body: FeedbackIn
) -> Response:
    """Say whether a result helped for a query, or that a document is outdated (it goes to its owner's review
    queue), with an optional comment; any signed-in reader."""
    app_feedback.give(
        kb,
        caller=caller_of(request, who),
        doc_id=body.document_id,
        verdict=body.verdict_given(),
        query=body.query,
        comment=body.comment,
    )
    return Response(status_code=204)


@router.get("/stats", response_model=StatsPublic)
def stats(request: Request, kb: KbDep, who: AdminDep) -> StatsPublic:
    """Documents per kind, index state, and what people search for (and do not find)."""
    found = maintenance.overview(kb, caller=caller_of(request, who))
    return StatsPublic(documents=found.documents, index=found.index, searches=SearchReportPublic.of(found.searches))
