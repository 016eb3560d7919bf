"""The PMO dashboard: every figure the page charts and exports, for PMO admins."""

from __future__ import annotations

from dataclasses import dataclass

from app import briefs
from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.identity.access import require
from kb.pmo import dashboard
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import Role

# the columns that name a person by login (or, for an owner, by free text): the page shows their display names
PEOPLE = (("briefs", "by"), ("overdue", "owner"), ("outdated", "owner"))


@dataclass(frozen=True)
class Board:
    """The dashboard's ``tables``, and ``names``: the display names of the people they name by login (who saved
    a brief, who owns an overdue or outdated document), as the library names owners. The tables, and so
    their CSV, keep the logins: a file that is read by other tools joins on them."""

    tables: dashboard.Dashboard
    names: dict[str, str]


def board(kb: KnowledgeBase, *, caller: Caller, vocabulary: Vocabulary) -> Board:
    """The dashboard's tables, this process's queued searches counted too (they are written first)."""
    require(caller.principal, Role.pmo_admin)
    kb.search_log.flush()
    built = dashboard.build(kb.store, kb.audit, briefs.recurring(kb, caller=caller), vocabulary=vocabulary)
    tables = built.tables()
    people = [
        str(row[tables[name].columns.index(column)] or "") for name, column in PEOPLE for row in tables[name].rows
    ]
    return Board(built, kb.accounts.display_names(people))
