"""The JSON API under ``/api``: the same services as the pages, typed public schemas, JSON errors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from kb.models import Kind
from kb.search import Filters
from web import services
from web.deps import KbDep, Role, requires
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
Reader = Depends(requires(Role.reader))
Contributor = Depends(requires(Role.contributor))
Many = Annotated[list[str] | None, Query()]


@router.get("/search", response_model=SearchResponse, dependencies=[Reader])
def search(
    kb: KbDep,
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
) -> SearchResponse:
    """Hybrid search with filters (repeat a parameter for several values), paging and explanations."""
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
    result = services.search(kb, q, filters, limit=limit, offset=offset, mode=mode)
    return SearchResponse.of(result, offset=offset, limit=limit, explain=explain)


@router.get("/documents/{doc_id}", response_model=DocumentPublic, dependencies=[Reader])
def get_document(kb: KbDep, doc_id: str) -> DocumentPublic:
    return DocumentPublic.of(kb.store.get(doc_id))


@router.get(
    "/documents/{doc_id}/original",
    dependencies=[Reader],
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_original(kb: KbDep, doc_id: str) -> Response:
    """The original file the document was ingested from (templates and procedures from Word, Excel, PDF)."""
    return original_response(kb, doc_id)


@router.post("/documents", response_model=DocumentPublic, status_code=201, dependencies=[Contributor])
def create_document(request: Request, kb: KbDep, body: DocumentCreate) -> DocumentPublic:
    return DocumentPublic.of(services.create_document(request, kb, body))


@router.put("/documents/{doc_id}", response_model=DocumentPublic, dependencies=[Contributor])
def update_document(request: Request, kb: KbDep, doc_id: str, body: DocumentCreate) -> DocumentPublic:
    return DocumentPublic.of(services.update_document(request, kb, doc_id, body))


@router.delete("/documents/{doc_id}", status_code=204, dependencies=[Contributor])
def delete_document(request: Request, kb: KbDep, doc_id: str) -> Response:
    services.delete_document(request, kb, doc_id)
    return Response(status_code=204)


@router.post("/retrospectives", response_model=RetrospectiveCreated, status_code=201, dependencies=[Contributor])
def create_retrospective(request: Request, kb: KbDep, body: RetrospectiveCreate) -> RetrospectiveCreated:
    """Store a retrospective and one lesson per lesson given; all are searchable when this returns."""
    retro, *lessons = services.save_retrospective(request, kb, body)
    return RetrospectiveCreated(retrospective=DocumentPublic.of(retro), lessons=[DocumentPublic.of(d) for d in lessons])


@router.post("/upload", response_model=UploadResponse, dependencies=[Contributor])
async def upload(
    request: Request,
    kb: KbDep,
    files: Annotated[list[UploadFile], File(description="One or more files")],
    kind: Annotated[Kind | None, Form(description="Kind for files that do not say")] = None,
) -> UploadResponse:
    """Ingest several files; each gets its own result (added, updated, unchanged, failed with the reason)."""
    limit = kb.settings.max_file_bytes
    contents = [(f.filename or "upload", await f.read(limit + 1)) for f in files]
    reports = services.upload(request, kb, contents, kind)
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


@router.post("/feedback", status_code=204, dependencies=[Reader])
def feedback(kb: KbDep, body: FeedbackIn) -> Response:
    """Record whether a result helped for a query (shown to the PMO on the insights page)."""
    kb.store.record_feedback(body.query, body.document_id, body.helpful)
    return Response(status_code=204)


@router.get("/stats", response_model=StatsPublic, dependencies=[Reader])
def stats(kb: KbDep) -> StatsPublic:
    """Documents per kind, index state, and what people search for (and do not find)."""
    return StatsPublic(
        documents=kb.store.counts(), index=kb.indexer.stats(), searches=SearchReportPublic.of(kb.store.search_report())
    )
