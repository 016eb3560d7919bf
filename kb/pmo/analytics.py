"""Search analytics, in one place: the searches people make, and the report the PMO reads (with feedback).

Searches are written in batches by ``kb.pmo.search_log`` (never on the
request path); feedback is written by ``kb.pmo.feedback``. The insights page,
``/api/stats`` and the dashboard read the figures here. Queries are kept as
typed, trimmed, at most 500 characters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, insert
from sqlmodel import col, select

from kb.record.models import Feedback, SearchEvent
from kb.record.store import SqlStore

MAX_QUERY = 500


@dataclass
class SearchReport:
    """What people searched for: totals, the most frequent queries, those that found nothing, feedback."""

    searches: int
    zero_result_searches: int
    top_queries: list[tuple[str, int]]
    zero_result_queries: list[tuple[str, int]]
    feedback: list[tuple[str, int, int]]  # document id, helpful, not helpful


class SearchAnalytics:
    """The search log and the feedback of one store (written through its unit of work)."""

    def __init__(self, store: SqlStore) -> None:
        self.db = store.db

    def record_search(self, query: str, filters: dict[str, Any], results: int) -> None:
        """Log one search now (the web app queues them in ``SearchLog`` instead)."""
        self.record_searches([SearchEvent(query=query, filters=filters, results=results)])

    def record_searches(self, events: Sequence[SearchEvent]) -> None:
        """Log searches in one transaction, each with the time it ran (``at``, set when it was made)."""
        if not events:
            return
        rows = [
            {"query": e.query.strip()[:MAX_QUERY], "filters": e.filters, "results": e.results, "at": e.at}
            for e in events
        ]
        with self.db.writing() as session:
            session.execute(insert(SearchEvent), rows)

    def report(self, *, since: dt.datetime | None = None, limit: int = 20) -> SearchReport:
        with self.db.reading() as session:
            events = select(SearchEvent)
            if since is not None:
                events = events.where(col(SearchEvent.at) >= since)
            sub = events.subquery()
            total = session.exec(select(func.count()).select_from(sub)).one()
            zero = session.exec(select(func.count()).select_from(sub).where(sub.c.results == 0)).one()
            count = func.count().label("n")
            top = session.exec(
                select(sub.c.query, count).group_by(sub.c.query).order_by(count.desc(), sub.c.query).limit(limit)
            ).all()
            missing = session.exec(
                select(sub.c.query, count)
                .where(sub.c.results == 0)
                .group_by(sub.c.query)
                .order_by(count.desc(), sub.c.query)
                .limit(limit)
            ).all()
            helpful = func.sum(case((col(Feedback.helpful), 1), else_=0))
            unhelpful = func.sum(case((col(Feedback.helpful), 0), else_=1))
            feedback = session.exec(
                select(Feedback.document_id, helpful, unhelpful)
                .group_by(col(Feedback.document_id))
                .order_by(unhelpful.desc())
                .limit(limit)
            ).all()
            return SearchReport(
                searches=int(total),
                zero_result_searches=int(zero),
                top_queries=[(q, int(n)) for q, n in top],
                zero_result_queries=[(q, int(n)) for q, n in missing],
                feedback=[(d, int(h or 0), int(u or 0)) for d, h, u in feedback],
            )

    def searches_since(self, since: dt.datetime) -> list[tuple[dt.datetime, int]]:
        """(when, result count) of every search since ``since`` (the dashboard buckets them by week)."""
        with self.db.reading() as session:
            rows = session.exec(select(SearchEvent.at, SearchEvent.results).where(col(SearchEvent.at) >= since))
            return [(at, results) for at, results in rows]

    def zero_results(self, *, limit: int = 100) -> list[tuple[str, int, dt.datetime | None]]:
        """Queries that found nothing: (query, searches, last asked), most frequent first."""
        with self.db.reading() as session:
            n = func.count().label("n")
            last = func.max(SearchEvent.at).label("last")
            rows = session.exec(
                select(SearchEvent.query, n, last)
                .where(SearchEvent.results == 0)
                .group_by(col(SearchEvent.query))
                .order_by(n.desc(), last.desc())
                .limit(limit)
            ).all()
            return [(q, int(c), t) for q, c, t in rows]
