"""What the API and the pages both do, written once: search with logging, writes that index at once."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Request

from ingest.budget import FileBudget
from ingest.forms import LessonEntry, RetrospectiveEntry, retrospective_drafts
from ingest.pipeline import FileReport
from ingest.registry import default_registry
from ingest.uploads import ingest_upload
from kb.engine import KnowledgeBase
from kb.language import detect_language
from kb.models import Document, DocumentDraft, Kind
from kb.search import Filters, Mode, SearchResult
from web.schemas import DocumentFields, RetrospectiveCreate


def indexed(request: Request, kb: KnowledgeBase) -> None:
    """Bring the indexes up to the write just made, so it is searchable when the response arrives."""
    if kb.indexer.catch_up():
        request.app.state.follower.changed()


def search(
    kb: KnowledgeBase, query: str, filters: Filters, *, limit: int, offset: int, mode: Mode, record: bool = True
) -> SearchResult:
    """Run a search and log it (query, filters, result count) for the PMO's insights page."""
    result = kb.searcher.search(query, filters=filters, limit=limit, offset=offset, mode=mode)
    if record and query.strip() and offset == 0:
        active = {k: (list(v) if isinstance(v, tuple) else str(v)) for k, v in asdict(filters).items() if v}
        kb.store.record_search(query, active, result.total)
    return result


def draft_of(fields: DocumentFields) -> DocumentDraft:
    data = fields.model_dump()
    if not data.get("language"):
        data["language"] = detect_language(f"{fields.title}\n{fields.body}")
    return DocumentDraft.model_validate(data)


def create_document(request: Request, kb: KnowledgeBase, fields: DocumentFields) -> Document:
    doc = kb.store.create(draft_of(fields))
    indexed(request, kb)
    return doc


def update_document(request: Request, kb: KnowledgeBase, doc_id: str, fields: DocumentFields) -> Document:
    doc = kb.store.update(doc_id, draft_of(fields))
    indexed(request, kb)
    return doc


def delete_document(request: Request, kb: KnowledgeBase, doc_id: str) -> None:
    kb.store.delete(doc_id)
    indexed(request, kb)


def save_retrospective(request: Request, kb: KnowledgeBase, data: RetrospectiveCreate) -> list[Document]:
    """Store the retrospective and its lessons in one transaction; return them, retrospective first."""
    entry = RetrospectiveEntry(
        title=data.title,
        project=data.project,
        phase=data.phase,
        doc_date=data.doc_date,
        language=data.language,
        owner=data.owner,
        tags=data.tags,
        went_well=data.went_well,
        went_wrong=data.went_wrong,
        lessons=[
            LessonEntry(lesson=e.lesson, title=e.title, driving_event=e.driving_event, recommendation=e.recommendation)
            for e in data.lessons
        ],
    )
    source, drafts = retrospective_drafts(entry)
    result = kb.store.replace_source(source, source, drafts)
    indexed(request, kb)
    return [kb.store.get(doc_id) for doc_id in result.added]


def upload(request: Request, kb: KnowledgeBase, files: list[tuple[str, bytes]], kind: Kind | None) -> list[FileReport]:
    registry = default_registry()
    reports = [
        ingest_upload(
            kb.store,
            name,
            data,
            registry=registry,
            max_file_bytes=kb.settings.max_file_bytes,
            kind=kind,
            budget=FileBudget.from_settings(kb.settings),
        )
        for name, data in files
    ]
    indexed(request, kb)
    return reports


def related(kb: KnowledgeBase, doc: Document, limit: int = 5) -> list[tuple[str, str, str]]:
    """(id, title, kind) of the documents nearest in meaning to ``doc``, itself and its family excluded."""
    family = {doc.id, doc.parent_id} | {c.id for c in kb.store.children(doc.id)}
    text = f"{doc.title}\n{doc.body[:1000]}"
    result = kb.searcher.search(text, limit=limit + len(family), mode="dense")
    return [(h.document.id, h.document.title, h.document.kind) for h in result.hits if h.document.id not in family][
        :limit
    ]
