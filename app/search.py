"""Searching as the caller sees the store, logged for the PMO's analytics: the same for pages, API and CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

from app import documents
from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.identity.access import require
from kb.pmo import lifecycle
from kb.pmo.analytics import SearchReport
from kb.record.models import Document, Role
from kb.search.facets import FacetFolding
from kb.search.searcher import Filters, Mode, SearchResult


def search(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    query: str,
    filters: Filters,
    limit: int = 10,
    offset: int = 0,
    mode: Mode = "hybrid",
    weak: bool = False,
    record: bool = True,
) -> SearchResult:
    """Run a search as the caller sees the store, and log it (query, filters, result count) for the PMO.

    The searcher counts and filters projects, phases and tags by key
    (``kb.search.facets``): ``phase=test`` finds テスト and testing too; superseded
    and archived standards sink below the current version. A search asking for
    the weak matches of a query already counted is the same search looked at
    again, and a later page of it too: neither is logged twice.
    """
    filters = replace(filters, visible_to=caller.principal.visible_to)
    result = kb.searcher.search(query, filters=filters, limit=limit, offset=offset, mode=mode, weak=weak)
    if record and query.strip() and offset == 0 and not weak:
        active = {
            k: (list(v) if isinstance(v, tuple) else str(v))
            for k, v in asdict(filters).items()
            if v and k != "visible_to"
        }
        kb.search_log.record(query, active, result.total)  # queued: the request never writes
    return result


def folding(kb: KnowledgeBase) -> FacetFolding:
    """How facet values fold (テスト, testing and test are one phase): what a page's filter links compare by."""
    return kb.searcher.folding


def report(kb: KnowledgeBase, *, caller: Caller) -> SearchReport:
    """The search analytics (PMO admins), counting this process's searches still queued (they are written first)."""
    require(caller.principal, Role.pmo_admin)
    kb.search_log.flush()
    return kb.analytics.report()


@dataclass(frozen=True)
class Insights:
    """What people search for and do not find, feedback on results (with the documents' titles), and the
    published standards past their review date."""

    report: SearchReport
    titles: dict[str, str]
    stale: list[Document]


def insights(kb: KnowledgeBase, *, caller: Caller) -> Insights:
    found = report(kb, caller=caller)
    rated = documents.many(kb, caller=caller, doc_ids=[doc_id for doc_id, _, _ in found.feedback])
    stale = lifecycle.overdue(documents.standards(kb, caller=caller), dt.date.today())
    return Insights(found, {d.id: d.title for d in rated}, stale)
