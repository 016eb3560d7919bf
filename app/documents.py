"""Reading and writing single documents: what a caller may see, create, change and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.caller import Caller
from app.effects import audit, counted, indexed
from kb.engine import KnowledgeBase
from kb.identity.access import STANDARD_KINDS, admit, check_edit, only_visible, visible
from kb.pmo import lifecycle
from kb.record.models import Document, DocumentBase, DocumentDraft, Kind, Status
from kb.search.language import detect_language
from kb.search.searcher import Filters


def get(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> Document:
    """The document, or NotFound when it does not exist or the caller may not see it (the same answer)."""
    return visible(caller.principal, kb.store.get(doc_id))


def listed(kb: KnowledgeBase, *, caller: Caller, kind: Kind | None = None) -> list[Document]:
    """Every document of ``kind`` (or all) the caller may see, ordered by kind and title."""
    return only_visible(caller.principal, kb.store.documents(kind=kind), _groups)


def draft_of(fields: Mapping[str, Any]) -> DocumentDraft:
    """A draft from form or API fields; the language detected from title and body when none is given."""
    data = dict(fields)
    if not data.get("language"):
        data["language"] = detect_language(f"{data.get('title', '')}\n{data.get('body', '')}")
    return DocumentDraft.model_validate(data)


def _write_action(before: Status | None, after: Status, kind: Kind, default: str) -> str:
    """``publish``, ``supersede`` or ``archive`` when a template's or procedure's status moves there."""
    if kind in (Kind.template, Kind.procedure) and after is not before and after is not Status.draft:
        return {Status.published: "publish", Status.superseded: "supersede", Status.archived: "archive"}.get(
            after, default
        )
    return default


def create(kb: KnowledgeBase, *, caller: Caller, fields: Mapping[str, Any]) -> Document:
    """A new document from a form or the API, created by the caller; searchable when this returns."""
    draft = admit(caller.principal, draft_of(fields))
    with kb.store.transaction():
        doc = kb.store.create(draft, by=caller.login)
        action = _write_action(None, doc.status, doc.kind, "create")
        audit(kb, caller, action, doc.id, kind=doc.kind, title=doc.title)
    counted(kb, "added")
    indexed(kb)
    return doc


def update(kb: KnowledgeBase, *, caller: Caller, doc_id: str, fields: Mapping[str, Any]) -> Document:
    """Replace a document's fields (its original file stays), if the caller may edit it."""
    draft = admit(caller.principal, draft_of(fields))
    with kb.store.transaction():
        before = kb.store.get(doc_id)
        check_edit(caller.principal, before)
        doc = kb.store.update(doc_id, draft)
        action = _write_action(before.status, doc.status, doc.kind, "update")
        audit(kb, caller, action, doc.id, kind=doc.kind, title=doc.title, status=doc.status)
    counted(kb, "updated")
    indexed(kb)
    return doc


# the fields an edit in the browser may change; status moves only through the lifecycle, groups on upload/create
EDITABLE = (
    "title",
    "body",
    "tags",
    "project",
    "phase",
    "language",
    "owner",
    "version",
    "review_by",
    "doc_date",
    "driving_event",
    "lesson",
    "recommendation",
    "impact",
    "category",
    "question",
    "answer",
)


def revise(kb: KnowledgeBase, *, caller: Caller, doc_id: str, fields: Mapping[str, Any]) -> Document:
    """An edit made on the document page: the ``EDITABLE`` fields, everything else kept.

    A published template or procedure is not changed in place: the edit becomes
    a new draft version for review (``kb.pmo.lifecycle.revision_of``), created
    by the editor, audited as ``revise``; the published version stays what
    readers get until a PMO admin approves the new one. Anything else is
    updated in place (its original file kept); a contributor's edit of a
    standard in review takes it back to draft, to be submitted again.
    """
    before = get(kb, caller=caller, doc_id=doc_id)
    check_edit(caller.principal, before)
    kept = before.model_dump(include=set(DocumentBase.model_fields) - set(EDITABLE))
    edited = {k: v for k, v in fields.items() if k in EDITABLE}
    data = {**before.model_dump(include=set(EDITABLE)), **edited, **kept, "key": before.source_key or "main"}
    if before.kind not in STANDARD_KINDS or before.status is not Status.published:
        return update(kb, caller=caller, doc_id=doc_id, fields=data)
    draft = admit(caller.principal, lifecycle.revision_of(before, draft_of(data)))
    with kb.store.transaction():
        doc = kb.store.create(draft, by=caller.login)
        audit(kb, caller, "revise", doc.id, kind=doc.kind, title=doc.title, of=before.id, version=doc.version or "")
    counted(kb, "added")
    indexed(kb)
    return doc


def delete(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> None:
    """Delete a document the caller may edit."""
    with kb.store.transaction():
        doc = kb.store.get(doc_id)
        check_edit(caller.principal, doc)
        kb.store.delete(doc_id)
        audit(kb, caller, "delete", doc_id, kind=doc.kind, title=doc.title)
    counted(kb, "removed")
    indexed(kb)


def related(kb: KnowledgeBase, *, caller: Caller, doc: Document, limit: int = 5) -> list[tuple[str, str, str]]:
    """(id, title, kind) of the documents nearest in meaning to ``doc`` that the caller may see; its family
    (its retrospective, its lessons) excluded."""
    family = {doc.id, doc.parent_id} | {c.id for c in kb.store.children(doc.id)}
    text = f"{doc.title}\n{doc.body[:1000]}"
    filters = Filters(visible_to=caller.principal.visible_to)
    result = kb.searcher.search(text, filters=filters, limit=limit + len(family), mode="dense")
    hits = [(h.document.id, h.document.title, h.document.kind) for h in result.hits if h.document.id not in family]
    return hits[:limit]


def children(kb: KnowledgeBase, *, caller: Caller, doc: Document) -> list[Document]:
    """The lessons split out of a retrospective, those the caller may see."""
    return only_visible(caller.principal, kb.store.children(doc.id), _groups)


def feedback(kb: KnowledgeBase, *, caller: Caller, query: str, doc_id: str, helpful: bool) -> None:
    """Record whether a hit helped for a query (a document the caller may see)."""
    get(kb, caller=caller, doc_id=doc_id)
    kb.store.record_feedback(query, doc_id, helpful)


def _groups(doc: Document) -> list[str]:
    return doc.groups
