"""The home page's overview: what the store holds and the caller's own work in progress."""

from __future__ import annotations

from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.pmo.overview import Overview, overview


def home(kb: KnowledgeBase, *, caller: Caller) -> Overview:
    """Counts per kind and language, the latest of each kind, and the caller's drafts and saved briefs."""
    return overview(kb.store, caller.principal)
