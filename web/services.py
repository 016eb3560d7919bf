"""What the API and the pages both do, written once: search with logging, writes that index at once.

Every function takes the caller (``Principal``): reads see only what it may
see (``kb.identity.access``), writes are admitted or refused by the same rules, and
each write lands in the audit log with the caller and their address.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import Request

from ingest.budget import FileBudget
from ingest.forms import LessonEntry, RetrospectiveEntry, retrospective_drafts
from ingest.pipeline import FileReport, FileStatus, ingest_paths
from ingest.registry import default_registry
from ingest.uploads import ingest_upload
from kb.engine import KnowledgeBase
from kb.identity.access import GuardedStore, Principal, admit, check_edit, require, visible
from kb.pmo import actions, brief, clusters, lifecycle, saved_briefs
from kb.record.models import ActionStatus, Document, DocumentDraft, Kind, LessonAction, Role, Status
from kb.record.models import Brief as SavedBrief
from kb.record.store import SearchReport
from kb.search.language import detect_language
from kb.search.searcher import Filters, Mode, SearchResult
from web.auth import client_address
from web.schemas import DocumentFields, RetrospectiveCreate


def indexed(request: Request, kb: KnowledgeBase) -> None:
    """Bring the indexes up to the write just made, so it is searchable when the response arrives."""
    if kb.indexer.catch_up():
        request.app.state.follower.changed()


def audit(request: Request, kb: KnowledgeBase, who: Principal, action: str, target: str, **detail: Any) -> None:
    kb.audit.record(who.label, action, target, address=client_address(request), via=who.via, **detail)


def counted(request: Request, outcome: str, documents: int = 1) -> None:
    """Count documents written through the app, for ``/metrics``."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None and documents:
        metrics.written.labels(outcome).inc(documents)


def search(
    kb: KnowledgeBase,
    query: str,
    filters: Filters,
    *,
    who: Principal,
    limit: int,
    offset: int,
    mode: Mode,
    record: bool = True,
    weak: bool = False,
) -> SearchResult:
    """Run a search as ``who`` sees the store, and log it (query, filters, result count) for the PMO.

    The searcher counts and filters projects, phases and tags by key (``kb.search.facets``): ``phase=test`` finds
    テスト and testing too, the facets merge them; the documents keep what their authors wrote.
    """
    filters = replace(filters, visible_to=who.visible_to)
    result = kb.searcher.search(query, filters=filters, limit=limit, offset=offset, mode=mode, weak=weak)
    # a search asking for the weak matches of a query already counted is the same search, looked at again
    if record and query.strip() and offset == 0 and not weak:
        active = {
            k: (list(v) if isinstance(v, tuple) else str(v))
            for k, v in asdict(filters).items()
            if v and k != "visible_to"
        }
        kb.search_log.record(query, active, result.total)  # queued: the request never writes
    return result


def search_report(kb: KnowledgeBase) -> SearchReport:
    """The search analytics, counting this process's searches still queued (they are written first)."""
    kb.search_log.flush()
    return kb.store.search_report()


def get_document(kb: KnowledgeBase, doc_id: str, who: Principal) -> Document:
    """The document, or NotFound when it does not exist or ``who`` may not see it (the same answer)."""
    return visible(who, kb.store.get(doc_id))


def documents(kb: KnowledgeBase, who: Principal, kind: Kind | None = None) -> list[Document]:
    return [d for d in kb.store.documents(kind=kind) if who.can_see(d.groups)]


def draft_of(fields: DocumentFields) -> DocumentDraft:
    data = fields.model_dump()
    if not data.get("language"):
        data["language"] = detect_language(f"{fields.title}\n{fields.body}")
    return DocumentDraft.model_validate(data)


def _write_action(before: Status | None, after: Status, kind: Kind, default: str) -> str:
    """``publish``, ``supersede`` or ``archive`` when a template's or procedure's status moves there."""
    if kind in (Kind.template, Kind.procedure) and after is not before and after is not Status.draft:
        return {Status.published: "publish", Status.superseded: "supersede", Status.archived: "archive"}.get(
            after, default
        )
    return default


def create_document(request: Request, kb: KnowledgeBase, fields: DocumentFields, who: Principal) -> Document:
    draft = admit(who, draft_of(fields))
    doc = kb.store.create(draft, by=who.login or None)
    counted(request, "added")
    audit(request, kb, who, _write_action(None, doc.status, doc.kind, "create"), doc.id, kind=doc.kind, title=doc.title)
    indexed(request, kb)
    return doc


def update_document(
    request: Request, kb: KnowledgeBase, doc_id: str, fields: DocumentFields, who: Principal
) -> Document:
    before = kb.store.get(doc_id)
    check_edit(who, before)
    doc = kb.store.update(doc_id, admit(who, draft_of(fields)))
    counted(request, "updated")
    action = _write_action(before.status, doc.status, doc.kind, "update")
    audit(request, kb, who, action, doc.id, kind=doc.kind, title=doc.title, status=doc.status)
    indexed(request, kb)
    return doc


def delete_document(request: Request, kb: KnowledgeBase, doc_id: str, who: Principal) -> None:
    doc = kb.store.get(doc_id)
    check_edit(who, doc)
    kb.store.delete(doc_id)
    counted(request, "removed")
    audit(request, kb, who, "delete", doc_id, kind=doc.kind, title=doc.title)
    indexed(request, kb)


def save_retrospective(
    request: Request, kb: KnowledgeBase, data: RetrospectiveCreate, who: Principal
) -> list[Document]:
    """Store the retrospective and its lessons in one transaction; return them, retrospective first."""
    entry = RetrospectiveEntry(
        title=data.title,
        project=data.project,
        phase=data.phase,
        doc_date=data.doc_date,
        language=data.language,
        owner=data.owner,
        tags=data.tags,
        groups=data.groups,
        went_well=data.went_well,
        went_wrong=data.went_wrong,
        lessons=[
            LessonEntry(lesson=e.lesson, title=e.title, driving_event=e.driving_event, recommendation=e.recommendation)
            for e in data.lessons
        ],
    )
    source, drafts = retrospective_drafts(entry)
    result = kb.store.replace_source(source, source, [admit(who, d) for d in drafts], by=who.login or None)
    counted(request, "added", len(result.added))
    audit(
        request, kb, who, "create", result.added[0], kind=Kind.retrospective, title=data.title, lessons=len(drafts) - 1
    )
    indexed(request, kb)
    return [kb.store.get(doc_id) for doc_id in result.added]


def upload(
    request: Request, kb: KnowledgeBase, files_in: list[tuple[str, bytes]], kind: Kind | None, who: Principal
) -> list[FileReport]:
    """Ingest uploaded files as ``who``: their role and groups decide what each file may store or replace."""
    require(who, Role.contributor)
    registry = default_registry()
    store = GuardedStore(kb.store, who)
    reports = [
        ingest_upload(
            store,  # type: ignore[arg-type]
            name,
            data,
            registry=registry,
            max_file_bytes=kb.settings.max_file_bytes,
            kind=kind,
            budget=FileBudget.from_settings(kb.settings),
        )
        for name, data in files_in
    ]
    for report in reports:
        detail: dict[str, Any] = {"status": report.status.value, "documents": report.documents}
        if report.status is FileStatus.failed:
            detail["reason"] = report.reason
        counted(request, report.status.value, report.documents or (1 if report.status is FileStatus.failed else 0))
        audit(request, kb, who, "upload", report.path, **detail)
    indexed(request, kb)
    return reports


def load_demo(request: Request, kb: KnowledgeBase, who: Principal) -> None:
    require(who, Role.pmo_admin)
    folder = Path(str(files("ingest") / "demo_kb"))
    report = ingest_paths(
        kb.store,
        [folder],
        registry=default_registry(),
        max_file_bytes=kb.settings.max_file_bytes,
        budget=FileBudget.from_settings(kb.settings),
    )
    audit(request, kb, who, "demo", "demo knowledge base", **report.summary())
    indexed(request, kb)


def related(kb: KnowledgeBase, doc: Document, who: Principal, limit: int = 5) -> list[tuple[str, str, str]]:
    """(id, title, kind) of the documents nearest in meaning to ``doc`` that ``who`` may see; its family excluded."""
    family = {doc.id, doc.parent_id} | {c.id for c in kb.store.children(doc.id)}
    text = f"{doc.title}\n{doc.body[:1000]}"
    filters = Filters(visible_to=who.visible_to)
    result = kb.searcher.search(text, filters=filters, limit=limit + len(family), mode="dense")
    return [(h.document.id, h.document.title, h.document.kind) for h in result.hits if h.document.id not in family][
        :limit
    ]


def recurring(request: Request, kb: KnowledgeBase, who: Principal) -> list[clusters.ProblemCluster]:
    """The recurring-problem clusters as ``who`` sees them: computed over what ``who`` may see (the latest run;
    empty before the first run of their view)."""
    found = request.app.state.clusters.current(who.visible_to)
    if found is None:
        return []
    with kb.indexer.lock:
        docs = dict(kb.indexer.docs)
    return clusters.view(found, docs, who.can_see)


def make_brief(
    request: Request, kb: KnowledgeBase, req: brief.BriefRequest, who: Principal, *, audit_it: bool = True
) -> brief.Brief:
    """The kickoff brief as ``who`` sees the store; made briefs are counted in the audit log for the PMO."""
    made = brief.make_brief(kb.searcher, kb.store, req, visible_to=who.visible_to, problems=recurring(request, kb, who))
    if audit_it:
        audit(request, kb, who, "brief", req.phase or "", items=len(made.items()), took_ms=round(made.took_ms))
    return made


def save_brief(
    request: Request,
    kb: KnowledgeBase,
    req: brief.BriefRequest,
    project: str,
    read: list[str],
    who: Principal,
    *,
    made: brief.Brief | None = None,
) -> SavedBrief:
    made = made or make_brief(request, kb, req, who, audit_it=False)
    row = saved_briefs.save(kb.store, made, project=project, read=read, by=who)
    audit(request, kb, who, "brief_save", str(row.id), project=row.project, items=len(row.items), read=len(set(read)))
    return row


def move_standard(
    request: Request, kb: KnowledgeBase, doc_id: str, action: lifecycle.Action, who: Principal, comment: str = ""
) -> Document:
    """One lifecycle move (``kb.pmo.lifecycle``), audited, with the versions it superseded; searchable at once."""
    moved = lifecycle.move(kb.store, doc_id, action, by=who, comment=comment, review_days=kb.settings.review_days)
    doc = moved.document
    audit(request, kb, who, action.value, doc.id, kind=doc.kind, title=doc.title, status=doc.status, comment=comment)
    for old in moved.superseded:
        audit(request, kb, who, "supersede", old.id, kind=old.kind, title=old.title, by_version=doc.id)
    indexed(request, kb)
    return doc


def set_lesson_action(
    request: Request,
    kb: KnowledgeBase,
    lesson_id: str,
    status: ActionStatus,
    who: Principal,
    *,
    target_id: str | None = None,
    reason: str = "",
) -> LessonAction | None:
    row = actions.set_action(kb.store, lesson_id, status, by=who, target_id=target_id, reason=reason)
    audit(
        request, kb, who, "lesson_action", lesson_id, status=status.value, adopted_into=target_id or "", reason=reason
    )
    return row
