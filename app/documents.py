"""Reading and writing single documents: what a caller may see, create, change and delete."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app import briefs
from app.caller import Caller
from app.effects import audit, counted, indexed
from kb.engine import KnowledgeBase
from kb.errors import NotFound
from kb.identity.access import STANDARD_KINDS, admit, check_edit, only_visible, visible
from kb.pmo import actions, lifecycle, word
from kb.pmo.clusters import ProblemCluster
from kb.record.models import Attachment, Document, DocumentBase, DocumentDraft, Kind, LessonAction, ReviewEvent, Status
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


def with_children(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> tuple[Document, list[Document]]:
    """A document and the lessons split out of it that the caller may see (``kb show``)."""
    doc = get(kb, caller=caller, doc_id=doc_id)
    return doc, children(kb, caller=caller, doc=doc)


def standards(kb: KnowledgeBase, *, caller: Caller) -> list[Document]:
    """Every template and procedure (all versions) the caller may see."""
    return [d for k in STANDARD_KINDS for d in listed(kb, caller=caller, kind=k)]


def many(kb: KnowledgeBase, *, caller: Caller, doc_ids: Sequence[str]) -> list[Document]:
    """Those of ``doc_ids`` that exist and the caller may see, by title."""
    return sorted(only_visible(caller.principal, kb.store.get_many(doc_ids), _groups), key=lambda d: d.title)


def original(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> Attachment:
    """The file a document was ingested from (a Word template, a PDF procedure), if the caller may see it."""
    doc = get(kb, caller=caller, doc_id=doc_id)
    if not doc.attachment_id:
        raise NotFound("this document has no original file")
    return kb.store.get_attachment(doc.attachment_id)


@dataclass(frozen=True)
class WordFile:
    filename: str
    data: bytes
    media_type: str = word.MEDIA_TYPE


def offers_word(doc: Document) -> bool:
    """Whether the document page offers "Download as Word": a template or procedure with a body whose
    original is not already a Word file (that one is downloaded as it is)."""
    from_word = (doc.source_path or "").lower().endswith((".docx", ".doc"))
    return doc.kind in STANDARD_KINDS and bool(doc.body.strip()) and not from_word


def as_word(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> WordFile:
    """The document's title and body as a .docx to fill in (``kb.pmo.word``), if the caller may see it."""
    doc = get(kb, caller=caller, doc_id=doc_id)
    data = word.markdown_docx(title=doc.title, body=doc.body, language=doc.language)
    return WordFile(word_filename(doc.title), data)


_NOT_IN_NAMES = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|]+')


def word_filename(title: str) -> str:
    """``<title>.docx`` with the characters no file system (or header) takes replaced, ≤ 120 chars."""
    name = _NOT_IN_NAMES.sub("_", title).strip(" ._") or "document"
    return name[:120] + ".docx"


@dataclass
class DocumentPage:
    """Everything the document page shows, as the caller may see it.

    For a template or procedure: its versions (when there are several), the
    current one, the moves the caller may make, its review history and the
    lessons it carries. For a lesson: the recurring problem it belongs to, what
    became of its recommendation, and the current standards it could be adopted into.
    """

    doc: Document
    parent: Document | None
    children: list[Document]
    related: list[tuple[str, str, str]]
    can_edit: bool
    word: bool = False
    versions: list[Document] = field(default_factory=list)
    current: Document | None = None
    moves: list[lifecycle.Action] = field(default_factory=list)
    events: list[ReviewEvent] = field(default_factory=list)
    carries: list[Document] = field(default_factory=list)
    cluster: ProblemCluster | None = None
    action: LessonAction | None = None
    action_target: Document | None = None
    standards: list[Document] = field(default_factory=list)


def page(kb: KnowledgeBase, *, caller: Caller, doc_id: str) -> DocumentPage:
    """The document page: the document, its family and what the PMO workflows know about it."""
    who = caller.principal
    doc = get(kb, caller=caller, doc_id=doc_id)
    parent = many(kb, caller=caller, doc_ids=[doc.parent_id]) if doc.parent_id else []
    view = DocumentPage(
        doc=doc,
        parent=parent[0] if parent else None,
        children=children(kb, caller=caller, doc=doc),
        related=related(kb, caller=caller, doc=doc),
        can_edit=who.can_edit(doc),
        word=offers_word(doc),
    )
    if doc.kind in STANDARD_KINDS:
        family = lifecycle.family(listed(kb, caller=caller, kind=doc.kind), doc)
        view.versions = family if len(family) > 1 else []
        view.current = lifecycle.current_version(family)
        view.moves = lifecycle.allowed_actions(doc, who)
        view.events = lifecycle.history(kb.store, doc.id)
        adopted = actions.adopted_into(kb.store, doc.id)
        view.carries = many(kb, caller=caller, doc_ids=[a.lesson_id for a in adopted])
    if doc.kind is Kind.lesson:
        view.cluster = next(
            (c for c in briefs.recurring(kb, caller=caller) if doc.id in {d.id for d in c.lessons}), None
        )
        view.action = actions.action_of(kb.store, doc.id)
        target = view.action.target_id if view.action else None
        view.action_target = next(iter(many(kb, caller=caller, doc_ids=[target])), None) if target else None
        view.standards = [d for d in standards(kb, caller=caller) if d.status in lifecycle.CURRENT]
    return view


def _groups(doc: Document) -> list[str]:
    return doc.groups
