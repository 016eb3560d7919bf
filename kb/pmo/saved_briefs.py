"""Kickoff briefs saved to a project: what was recommended, and which items the PM ticked as read.

Saving is a write (contributors and up); the items are kept as they were
made, so the PMO later sees which lessons were read before kickoff even when
the documents changed since. Reading a saved brief shows only the items the
reader may see.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from kb.errors import Forbidden, InvalidInput, NotFound
from kb.identity.access import Principal, require
from kb.pmo.brief import Brief
from kb.record.models import Role, SavedBrief
from kb.record.store import SqlStore


def save(store: SqlStore, brief: Brief, *, project: str, read: Iterable[str], by: Principal) -> SavedBrief:
    require(by, Role.contributor)
    project = project.strip()
    if not project:
        raise InvalidInput("name the project the brief is for")
    if not brief.request.description.strip():
        raise InvalidInput("describe the project first: the brief has no description")
    ticked = set(read)
    items = [
        {
            "document_id": i.document.id,
            "kind": i.document.kind,
            "title": i.document.title,
            "project": i.document.project,
            "reason": i.reason,
            "recurring": bool(i.cluster and i.cluster.recurring),
            "read": i.document.id in ticked,
        }
        for i in brief.items()
    ]
    r = brief.request
    params = {
        "project_type": r.project_type,
        "phase": r.phase,
        "vendors": list(r.vendors),
        "technologies": list(r.technologies),
        "budget": r.budget,
    }
    row = SavedBrief(project=project[:200], description=r.description, params=params, items=items, created_by=by.label)
    with store.db.writing() as session:
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def get(store: SqlStore, brief_id: int, who: Principal) -> SavedBrief:
    """A saved brief with only the items ``who`` may see."""
    with store.db.reading() as session:
        row = session.get(SavedBrief, brief_id)
    if row is None:
        raise NotFound(f"no saved brief {brief_id}")
    return _visible(store, row, who)


def listing(store: SqlStore, who: Principal, *, limit: int = 200) -> list[SavedBrief]:
    """Saved briefs, newest first, each with only the items ``who`` may see."""
    with store.db.reading() as session:
        rows = list(session.exec(select(SavedBrief).order_by(col(SavedBrief.id).desc()).limit(limit)))
    return [_visible(store, row, who) for row in rows]


def mark_read(store: SqlStore, brief_id: int, read: Iterable[str], *, by: Principal) -> SavedBrief:
    """Set which items are ticked (others unticked); its creator or a PMO admin."""
    require(by, Role.contributor)
    ticked = set(read)
    with store.db.writing() as session:
        row = session.get(SavedBrief, brief_id)
        if row is None:
            raise NotFound(f"no saved brief {brief_id}")
        if not may_change(row, by):
            raise Forbidden("only whoever saved the brief or a PMO admin may change it")
        visible = {i["document_id"] for i in _visible(store, row, by).items}
        # an item the caller cannot see keeps its tick: they cannot have read it here
        row.items = [
            {**i, "read": i["document_id"] in ticked if i["document_id"] in visible else i["read"]} for i in row.items
        ]
        session.add(row)
        session.flush()
        session.refresh(row)
    return _visible(store, row, by)


def may_change(row: SavedBrief, who: Principal) -> bool:
    """Whoever saved the brief (a contributor still) or a PMO admin may tick its items."""
    return who.is_admin or (who.allows(Role.contributor) and row.created_by == who.label)


def _visible(store: SqlStore, row: SavedBrief, who: Principal) -> SavedBrief:
    ids = [i["document_id"] for i in row.items]
    seen = {d.id for d in store.get_many(ids) if who.can_see(d.groups)}
    return row.model_copy(update={"items": [i for i in row.items if i["document_id"] in seen]})
