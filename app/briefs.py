"""The kickoff brief: made from the store as the caller sees it, saved with what was read, and recurring problems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.caller import Caller
from app.effects import audit
from kb.engine import KnowledgeBase
from kb.pmo import brief, clusters, saved_briefs
from kb.record.models import SavedBrief


def recurring(kb: KnowledgeBase, *, caller: Caller) -> list[clusters.ProblemCluster]:
    """The recurring-problem clusters as the caller sees them, computed over what they may see.

    A server keeps them fresh in the background (``kb.clusters``; empty before
    the first run of this view); a command without one computes them now.
    """
    who = caller.principal
    if kb.clusters is not None:
        found = kb.clusters.current(who.visible_to)
        if found is None:
            return []
    else:
        found = clusters.compute(kb.indexer, visible_to=who.visible_to)
    return clusters.view(found, kb.indexer.snapshot().docs, who.can_see)


def make(kb: KnowledgeBase, *, caller: Caller, request: brief.BriefRequest, audited: bool = True) -> brief.Brief:
    """The kickoff brief as the caller sees the store; made briefs are counted in the audit log for the PMO."""
    who = caller.principal
    made = brief.make_brief(
        kb.searcher, kb.store, request, visible_to=who.visible_to, problems=recurring(kb, caller=caller)
    )
    if audited:
        audit(kb, caller, "brief", request.phase or "", items=len(made.items()), took_ms=round(made.took_ms))
    return made


def save(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    request: brief.BriefRequest,
    project: str,
    read: Sequence[str],
) -> tuple[SavedBrief, brief.Brief]:
    """Make the brief and save it for a project with the items already read, audited in the same transaction;
    the saved row and the brief made."""
    made = make(kb, caller=caller, request=request, audited=False)
    with kb.store.transaction():
        row = saved_briefs.save(kb.store, made, project=project, read=list(read), by=caller.principal)
        audit(kb, caller, "brief_save", str(row.id), project=row.project, items=len(row.items), read=len(set(read)))
    return row, made


def mark_read(kb: KnowledgeBase, *, caller: Caller, brief_id: int, read: Sequence[str]) -> SavedBrief:
    """Tick the items of a saved brief that were read, audited."""
    with kb.store.transaction():
        row = saved_briefs.mark_read(kb.store, brief_id, read, by=caller.principal)
        audit(kb, caller, "brief_read", str(brief_id), project=row.project, read=len(set(read)))
    return row


@dataclass(frozen=True)
class SavedList:
    """The saved briefs page: ``briefs`` newest first; ``names`` their savers' display names by login."""

    briefs: list[SavedBrief]
    names: dict[str, str] = field(default_factory=dict)


def saved(kb: KnowledgeBase, *, caller: Caller) -> SavedList:
    """Saved briefs, newest first, each with only the items the caller may see; whoever saved each is named by
    display name, as the library and the review queue name people (``created_by`` keeps the login)."""
    rows = saved_briefs.listing(kb.store, caller.principal)
    return SavedList(rows, kb.accounts.display_names(r.created_by for r in rows))


@dataclass(frozen=True)
class SavedView:
    saved: SavedBrief
    can_edit: bool
    names: dict[str, str] = field(default_factory=dict)  # the saver's login → display name (absent: gone)


def saved_one(kb: KnowledgeBase, *, caller: Caller, brief_id: int) -> SavedView:
    """One saved brief as the caller sees it, whether they may tick its items, and its saver's display name."""
    row = saved_briefs.get(kb.store, brief_id, caller.principal)
    return SavedView(row, saved_briefs.may_change(row, caller.principal), kb.accounts.display_names([row.created_by]))


@dataclass(frozen=True)
class Remade:
    """A saved brief made again from its description, as the store is now, with its ticks and project."""

    brief: brief.Brief
    read: set[str]
    project: str


def remade(kb: KnowledgeBase, *, caller: Caller, brief_id: int) -> Remade:
    """A saved brief recomputed from what was asked (its export shows today's reading list, its ticks kept)."""
    row = saved_briefs.get(kb.store, brief_id, caller.principal)
    p = row.params
    request = brief.BriefRequest(
        row.description,
        p.get("project_type", ""),
        p.get("phase", ""),
        tuple(p.get("vendors", [])),
        tuple(p.get("technologies", [])),
        p.get("budget", ""),
    )
    made = make(kb, caller=caller, request=request, audited=False)
    return Remade(made, {i["document_id"] for i in row.items if i["read"]}, row.project)
