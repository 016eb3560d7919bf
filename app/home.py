"""The home page's overview: what the store holds and the caller's own work in progress."""

from __future__ import annotations

from dataclasses import dataclass

from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.pmo.overview import Overview, overview
from kb.record.models import Kind


@dataclass
class Landing:
    """The search page without a query: whether the store is empty (the demo offer), and the overview."""

    empty: bool
    home: Overview


def landing(kb: KnowledgeBase, *, caller: Caller) -> Landing:
    """Counts per kind and language, the latest of each kind, and the caller's drafts and saved briefs."""
    home = overview(kb.store, caller.principal)
    return Landing(empty=not _any_document(kb), home=home)


def _any_document(kb: KnowledgeBase) -> bool:
    """Whether anything is stored, visible to the caller or not: the demo is offered on an empty store only."""
    counts = kb.store.counts()
    return sum(v for k, v in counts.items() if k in {k.value for k in Kind}) > 0
