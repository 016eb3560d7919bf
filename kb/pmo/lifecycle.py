"""The lifecycle of templates and procedures: draft → in review → published → superseded / archived.

Each move is a domain function here, never page code, so the pages, the API
and the CLI make the same moves under the same rules:

- ``submit``: draft → in_review, by its editor (creator) or a PMO admin
- ``approve``: in_review → published, by a PMO admin; the published older versions become superseded
- ``return``: in_review → draft, by a PMO admin, with a comment for the author
- ``supersede``: published → superseded, by a PMO admin
- ``archive``: draft, in_review, published or superseded → archived, by a PMO admin
- ``verify``: published stays published, its review-by date moves on; by a PMO admin, its owner or creator

Any other move is a ``Conflict`` naming the status it is in. Versions of one
standard are linked through ``supersedes`` (the title of the version it
replaces), as files and forms already write it; ``family`` follows that chain.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import col, select

from kb.errors import Conflict, Forbidden, InvalidInput
from kb.identity.access import STANDARD_KINDS, Principal, check_edit, require, visible
from kb.record.models import Document, DocumentBase, DocumentDraft, ReviewEvent, Role, Status
from kb.record.store import SqlStore
from kb.search.findings import version_titles


class Action(StrEnum):
    submit = "submit"
    approve = "approve"
    return_ = "return"
    supersede = "supersede"
    archive = "archive"
    verify = "verify"


# action → (statuses it may start from, status it leads to, needs a PMO admin)
MOVES: dict[Action, tuple[frozenset[Status], Status, bool]] = {
    Action.submit: (frozenset({Status.draft}), Status.in_review, False),
    Action.approve: (frozenset({Status.in_review}), Status.published, True),
    Action.return_: (frozenset({Status.in_review}), Status.draft, True),
    Action.supersede: (frozenset({Status.published}), Status.superseded, True),
    Action.archive: (
        frozenset({Status.draft, Status.in_review, Status.published, Status.superseded}),
        Status.archived,
        True,
    ),
    Action.verify: (frozenset({Status.published}), Status.published, False),
}

CURRENT = (Status.published, Status.in_review, Status.draft)  # what the library shows by default
RETIRED = (Status.superseded, Status.archived)


@dataclass
class Moved:
    """What one move did: the document as it is now, and the older versions it superseded."""

    document: Document
    superseded: list[Document] = field(default_factory=list)


def allowed_actions(doc: Document, who: Principal) -> list[Action]:
    """The moves ``who`` may make on ``doc`` now (what the document page offers as buttons)."""
    if doc.kind not in STANDARD_KINDS:
        return []
    return [a for a in Action if doc.status in MOVES[a][0] and _may(a, doc, who)]


def _may(action: Action, doc: Document, who: Principal) -> bool:
    if MOVES[action][2]:
        return who.is_admin
    if action is Action.verify:
        return who.is_admin or (who.allows(Role.contributor) and (is_owner(doc, who) or who.can_edit(doc)))
    return who.can_edit(doc)


def is_owner(doc: Document, who: Principal) -> bool:
    """``owner`` is free text (``PMO 山田``); it names ``who`` when it is their login."""
    return bool(who.login) and (doc.owner or "").strip().casefold() == who.login.casefold()


def move(
    store: SqlStore,
    doc_id: str,
    action: Action,
    *,
    by: Principal,
    comment: str = "",
    today: dt.date | None = None,
    review_days: int = 180,
) -> Moved:
    """Make ``action`` on the template or procedure ``doc_id`` as ``by``; record it; return what changed.

    Raises NotFound (unseen or missing), InvalidInput (not a standard, a return
    without a comment), Forbidden (role or ownership) or Conflict (an illegal move).
    """
    doc = visible(by, store.get(doc_id))
    if doc.kind not in STANDARD_KINDS:
        raise InvalidInput(f"only templates and procedures have a lifecycle; this is a {doc.kind.value}")
    require(by, Role.contributor)
    starts, target, admin_only = MOVES[action]
    if doc.status not in starts:
        allowed = ", ".join(sorted(s.value for s in starts))
        raise Conflict(f"cannot {action.value} a document that is {doc.status.value} (only from: {allowed})")
    if admin_only and not by.is_admin:
        raise Forbidden(f"only a PMO admin may {action.value} a template or procedure")
    if action is Action.verify and not _may(action, doc, by):
        raise Forbidden("only its owner, its creator or a PMO admin may verify it")
    if action is Action.submit:
        check_edit(by, doc)
    comment = comment.strip()
    if action is Action.return_ and not comment:
        raise InvalidInput("say why it goes back: a return needs a comment for the author")
    changes: dict[str, object] = {"status": target}
    if action is Action.verify:
        changes["review_by"] = (today or dt.date.today()) + dt.timedelta(days=review_days)
    with store.transaction():  # the move, its review events and the versions it supersedes: all or none
        moved = Moved(_rewrite(store, doc, **changes))
        _record(store, doc, action, target, by, comment)
        if action is Action.approve:
            for old in family(store.documents(kind=doc.kind), doc):
                if old.id != doc.id and old.status is Status.published:
                    moved.superseded.append(_rewrite(store, old, status=Status.superseded))
                    _record(store, old, Action.supersede, Status.superseded, by, f"superseded by {doc_id}")
    return moved


def _rewrite(store: SqlStore, doc: Document, **changes: object) -> Document:
    """Store ``doc`` with ``changes``, keeping its id, source, creator and original."""
    data = doc.model_dump(include=set(DocumentBase.model_fields))
    draft = DocumentDraft.model_validate({**data, **changes, "key": doc.source_key or "main"})
    return store.update(doc.id, draft)


def _record(store: SqlStore, doc: Document, action: Action, to: Status, by: Principal, comment: str) -> None:
    with store.db.writing() as session:
        session.add(
            ReviewEvent(
                document_id=doc.id,
                action=action.value,
                from_status=doc.status,
                to_status=to,
                actor=by.label,
                comment=comment[:5000],
            )
        )


def history(store: SqlStore, doc_id: str) -> list[ReviewEvent]:
    """The lifecycle moves of one document, newest first."""
    with store.db.reading() as session:
        query = select(ReviewEvent).where(ReviewEvent.document_id == doc_id).order_by(col(ReviewEvent.id).desc())
        return list(session.exec(query))


def family(same_kind: Sequence[Document], doc: Document) -> list[Document]:
    """Every version of ``doc`` among ``same_kind``, newest version first (``doc`` included).

    Versions are linked by ``supersedes`` naming the title of the version they
    replace, or keep the same title (``kb.search.findings.version_titles``).
    """
    titles = version_titles(doc.title, [(d.title, d.supersedes) for d in same_kind])
    members = [d for d in same_kind if d.title in titles]
    return sorted(members, key=lambda d: (version_key(d.version), d.updated_at), reverse=True)


def version_key(version: str | None) -> tuple[tuple[int, str], ...]:
    """``"1.10"`` after ``"1.9"``: numbers compare as numbers, other parts as text."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in re.findall(r"\d+|[^\d.\-_ ]+", version or ""))


def next_version(version: str | None) -> str:
    """The version an edit of a published standard proposes: ``1.2`` → ``1.3``, ``v2`` → ``v3``, none → ``2``.

    Only a proposal: the editor may change it on the form before saving.
    """
    parts = re.split(r"(\d+)", version or "")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].isdigit():
            parts[i] = str(int(parts[i]) + 1)
            return "".join(parts)
    return f"{version}.2" if version else "2"


def revision_of(published: Document, edited: DocumentDraft) -> DocumentDraft:
    """The new draft version an edit of a published template or procedure becomes.

    A PMO expects a published standard never to change under its readers: the
    edit is stored as a new draft that names the published one in
    ``supersedes`` (so ``family`` links them), goes through submit → approve
    like any draft, and only approval supersedes the published version. The
    published version, its original file and its history stay as they were.
    """
    return edited.model_copy(
        update={
            "status": Status.draft,
            "supersedes": published.title,
            "key": "main",
            "attachment_id": None,
            "original": None,
            "review_by": None,
        }
    )


def current_version(versions: Sequence[Document]) -> Document | None:
    """The published version of a family, if any."""
    return next((d for d in versions if d.status is Status.published), None)


def is_overdue(doc: Document, today: dt.date) -> bool:
    return doc.status is Status.published and doc.review_by is not None and doc.review_by < today


def overdue(docs: Sequence[Document], today: dt.date, who: Principal | None = None) -> list[Document]:
    """Published standards past their review date, oldest first; with ``who``, only those they own or created."""
    found = [d for d in docs if d.kind in STANDARD_KINDS and is_overdue(d, today)]
    if who is not None:
        found = [d for d in found if is_owner(d, who) or (d.created_by is not None and d.created_by == who.login)]
    return sorted(found, key=lambda d: (d.review_by or today, d.title))
