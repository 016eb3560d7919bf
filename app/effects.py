"""What every write use case does besides its rows: the audit row, and the work that runs after the commit."""

from __future__ import annotations

from typing import Any

from app.caller import Caller
from kb.engine import KnowledgeBase


def audit(kb: KnowledgeBase, caller: Caller, action: str, target: str, **detail: Any) -> None:
    """One audit row for ``caller``; inside the use case's transaction it commits with the change it records."""
    who = caller.principal
    kb.audit.record(who.label, action, target, address=caller.address, via=who.via, **detail)


def indexed(kb: KnowledgeBase) -> None:
    """Bring the indexes up to the write just committed, so it is searchable when the call returns; tell the
    hooks (the web app wakes its change-log follower) when anything changed.

    Only where the indexes are loaded: a command that never searched (``kb lifecycle``) leaves the catch-up to
    the next search or server start, which read the change log, rather than load the model to index and
    throw the result away.
    """
    if kb.core_loaded and kb.indexer.catch_up():
        for hook in kb.hooks.indexed:
            hook()


def counted(kb: KnowledgeBase, outcome: str, documents: int = 1) -> None:
    """Count documents written (``added``, ``updated``, ``removed``, ``failed``…) for ``/metrics``."""
    if documents:
        for hook in kb.hooks.written:
            hook(outcome, documents)
