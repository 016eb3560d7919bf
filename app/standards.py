"""The standards lifecycle and what becomes of a lesson's recommendation, as use cases."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from app import documents
from app.caller import Caller
from app.effects import audit, indexed
from kb.engine import KnowledgeBase
from kb.errors import InvalidInput
from kb.identity.access import STANDARD_KINDS, Principal
from kb.pmo import actions, lifecycle
from kb.pmo.diff import DiffLine, diff_lines
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import ActionStatus, Document, LessonAction, ReviewEvent, Status


def move(
    kb: KnowledgeBase, *, caller: Caller, doc_id: str, action: lifecycle.Action, comment: str = ""
) -> lifecycle.Moved:
    """One lifecycle move (``kb.pmo.lifecycle``) with its review events, the versions it supersedes and their
    audit rows: all committed together or none; searchable when this returns."""
    with kb.store.transaction():
        moved = lifecycle.move(
            kb.store, doc_id, action, by=caller.principal, comment=comment, review_days=kb.settings.review_days
        )
        doc = moved.document
        audit(kb, caller, action.value, doc.id, kind=doc.kind, title=doc.title, status=doc.status, comment=comment)
        for old in moved.superseded:
            audit(kb, caller, "supersede", old.id, kind=old.kind, title=old.title, by_version=doc.id)
    indexed(kb)
    return moved


def set_lesson_action(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    lesson_id: str,
    status: ActionStatus,
    target_id: str | None = None,
    reason: str = "",
) -> LessonAction | None:
    """Record what became of a lesson's recommendation (adopted into a standard, not adopted, open), audited."""
    with kb.store.transaction():
        row = actions.set_action(kb.store, lesson_id, status, by=caller.principal, target_id=target_id, reason=reason)
        audit(kb, caller, "lesson_action", lesson_id, status=status.value, adopted_into=target_id or "", reason=reason)
    return row


@dataclass(frozen=True)
class ReviewQueue:
    """The reviews page: standards waiting for review, the caller's drafts (with the last move of those that
    came back), and the overdue reviews that are theirs (all of them for a PMO admin).

    ``names`` gives the display name of each submitter and owner that is a login, as people read them
    (an owner written as free text, or a login whose account is gone, is shown as written)."""

    queue: list[Document]
    drafts: list[Document]
    returned: dict[str, ReviewEvent]
    overdue: list[Document]
    today: dt.date
    names: dict[str, str] = field(default_factory=dict)  # submitters' and owners' logins → display names


def review_queue(kb: KnowledgeBase, *, caller: Caller, today: dt.date | None = None) -> ReviewQueue:
    """What waits for the caller: a PMO admin reviews every submitted standard, a contributor sees their own."""
    who = caller.principal
    docs = documents.standards(kb, caller=caller)
    mine = [d for d in docs if d.created_by == who.login or lifecycle.is_owner(d, who)]
    drafts = [d for d in mine if d.status is Status.draft]
    today = today or dt.date.today()
    queue = [d for d in docs if d.status is Status.in_review and (who.is_admin or d in mine)]
    overdue = lifecycle.overdue(docs, today, None if who.is_admin else who)
    people = [d.created_by or "" for d in queue] + [d.owner or "" for d in overdue]
    return ReviewQueue(
        queue=queue,
        drafts=drafts,
        returned={d.id: events[0] for d in drafts if (events := lifecycle.history(kb.store, d.id))},
        overdue=overdue,
        today=today,
        names=kb.accounts.display_names(people),
    )


@dataclass(frozen=True)
class Overdue:
    """Standards past their review date, oldest first; ``names`` their owners' display names by login (an owner
    written as free text, or a login whose account is gone, is shown as written)."""

    documents: list[Document]
    names: dict[str, str] = field(default_factory=dict)


def overdue(kb: KnowledgeBase, *, caller: Caller, owner: str | None = None) -> Overdue:
    """Published standards past their review date, oldest first; with ``owner``, only those that login owns
    or created (``kb reviews --owner``). Owners are named as the review queue names them."""
    docs = documents.standards(kb, caller=caller)
    who = Principal(owner, caller.principal.role) if owner else None
    due = lifecycle.overdue(docs, dt.date.today(), who)
    return Overdue(due, kb.accounts.display_names(d.owner or "" for d in due))


@dataclass(frozen=True)
class VersionDiff:
    new: Document
    old: Document
    lines: list[DiffLine]


def diff(kb: KnowledgeBase, *, caller: Caller, doc_id: str, against: str) -> VersionDiff:
    """What changed between two versions of one template or procedure (both visible to the caller)."""
    new = documents.get(kb, caller=caller, doc_id=doc_id)
    old = documents.get(kb, caller=caller, doc_id=against)
    if old.id not in {d.id for d in lifecycle.family(documents.listed(kb, caller=caller, kind=new.kind), new)}:
        raise InvalidInput("these two documents are not versions of one template or procedure")
    return VersionDiff(new, old, diff_lines(old.body, new.body))


LIBRARY_ORDER = {Status.published: 0, Status.in_review: 1, Status.draft: 2, Status.superseded: 3, Status.archived: 4}


@dataclass(frozen=True)
class Library:
    """The library page: ``groups`` by kind, then category; ``names`` the owners' display names by login."""

    groups: dict[str, dict[str, list[Document]]]
    names: dict[str, str] = field(default_factory=dict)


def library(
    kb: KnowledgeBase, *, caller: Caller, vocabulary: Vocabulary, everything: bool = False, lang: str = "en"
) -> Library:
    """Templates and procedures by kind, then by category (canonical spelling): the current versions only,
    or with ``everything`` the superseded and archived ones too; categories by their label in the reader's
    language (``lang``), uncategorised last; published first, then by title. An owner that is a login is
    named by its display name, as the review queue does (the owner field is free text)."""
    groups: dict[str, dict[str, list[Document]]] = {}
    for kind in STANDARD_KINDS:
        by_category: dict[str, list[Document]] = defaultdict(list)
        for doc in documents.listed(kb, caller=caller, kind=kind):
            if everything or doc.status in lifecycle.CURRENT:
                by_category[vocabulary.canonical("category", doc.category) or ""].append(doc)
        groups[kind.value] = {
            c: sorted(docs, key=lambda d: (LIBRARY_ORDER[d.status], d.title))
            for c, docs in sorted(by_category.items(), key=lambda i: category_order(vocabulary, i[0], lang))
        }
    owners = {d.owner for cats in groups.values() for docs in cats.values() for d in docs if d.owner}
    return Library(groups, kb.accounts.display_names(owners))


def category_order(vocabulary: Vocabulary, category: str, lang: str) -> tuple[bool, str]:
    """Categories by their label in the reader's language; documents without one last."""
    return (category == "", vocabulary.label("category", category, lang))
