"""The PMO dashboard: every figure the page charts and exports, for PMO admins."""

from __future__ import annotations

from app import briefs
from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.identity.access import require
from kb.pmo import dashboard
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import Role


def board(kb: KnowledgeBase, *, caller: Caller, vocabulary: Vocabulary) -> dashboard.Dashboard:
    """The dashboard's tables, this process's queued searches counted too (they are written first)."""
    require(caller.principal, Role.pmo_admin)
    kb.search_log.flush()
    return dashboard.build(kb.store, kb.audit, briefs.recurring(kb, caller=caller), vocabulary=vocabulary)
