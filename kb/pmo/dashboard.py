"""The PMO dashboard's figures, computed from the store: each one a table that the page charts and exports.

Every figure is a ``Table`` (a name, column names, rows of plain values), so
the page, its charts and the CSV export show the same numbers. Only PMO admins
see the dashboard (they see every document), so counts include restricted
documents; nothing here is shown to anyone else.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from kb.identity.audit import AuditLog
from kb.pmo import feedback, lifecycle
from kb.pmo.actions import actions
from kb.pmo.analytics import SearchAnalytics
from kb.pmo.clusters import ProblemCluster
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import ActionStatus, Document, Kind, SavedBrief, Status
from kb.record.store import SqlStore

# (age limit in days, column name): the pages show each column in words (web/i18n.py, ``bucket_<name>``)
AGE_BUCKETS = ((90, "age_under_90_days"), (365, "age_90_to_365_days"), (None, "age_over_1_year"))
WEEKS = 12


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Dashboard:
    today: dt.date
    searches: Table  # per week: searches, zero-result searches, briefs made
    zero_results: Table
    feedback: Table
    coverage: Table  # per dimension value: documents of each kind
    recurring: Table
    open_lessons: Table  # per project: open lessons by age
    overdue: Table
    briefs: Table
    outdated: Table  # documents readers reported outdated, reports not yet dealt with

    def tables(self) -> dict[str, Table]:
        return {
            t.name: t
            for t in (
                self.searches,
                self.zero_results,
                self.feedback,
                self.coverage,
                self.recurring,
                self.open_lessons,
                self.overdue,
                self.briefs,
                self.outdated,
            )
        }


def week_of(day: dt.date) -> dt.date:
    """The Monday starting ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def build(
    store: SqlStore,
    audit: AuditLog,
    problems: Sequence[ProblemCluster],
    *,
    today: dt.date | None = None,
    weeks: int = WEEKS,
    vocabulary: Vocabulary | None = None,
) -> Dashboard:
    today = today or dt.datetime.now(dt.UTC).date()
    docs = store.documents()
    return Dashboard(
        today=today,
        searches=_searches(store, audit, today, weeks),
        zero_results=_zero_results(store),
        feedback=_feedback(store, {d.id: d.title for d in docs}),
        coverage=_coverage(docs, vocabulary or Vocabulary.of({})),
        recurring=Table(
            "recurring",
            ["problem", "lessons", "projects", "first", "last", "trend"],
            [[c.label, c.count, ", ".join(c.projects), c.first, c.last, c.trend] for c in problems if c.recurring],
        ),
        open_lessons=_open_lessons(store, docs, today),
        overdue=Table(
            "overdue",
            ["title", "kind", "version", "owner", "review_by", "days_overdue", "id"],
            [
                [d.title, d.kind.value, d.version, d.owner, d.review_by, (today - d.review_by).days, d.id]
                for d in lifecycle.overdue(docs, today)
                if d.review_by
            ],
        ),
        briefs=_briefs(store),
        outdated=_outdated(store),
    )


def _outdated(store: SqlStore) -> Table:
    """Per document: open "outdated" reports, the latest one's date and comment, newest report first."""
    latest: dict[str, list[Any]] = {}
    for report in feedback.open_outdated(store):  # newest first
        doc = report.document
        if doc.id in latest:
            latest[doc.id][3] += 1
        else:
            at = report.feedback.at.date()
            latest[doc.id] = [
                doc.title,
                doc.kind.value,
                doc.owner or doc.created_by or "",
                1,
                at,
                report.feedback.comment,
                doc.id,
            ]
    return Table("outdated", ["title", "kind", "owner", "reports", "latest", "comment", "id"], list(latest.values()))


def _searches(store: SqlStore, audit: AuditLog, today: dt.date, weeks: int) -> Table:
    first = week_of(today) - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), dt.UTC)
    counts: dict[dt.date, list[int]] = {first + dt.timedelta(weeks=n): [0, 0, 0] for n in range(weeks)}
    for at, results in SearchAnalytics(store).searches_since(since):
        week = week_of(at.date())
        if week in counts:
            counts[week][0] += 1
            counts[week][1] += results == 0
    for event in audit.events(action="brief", since=since, limit=1_000_000):
        week = week_of(event.at.date())
        if week in counts:
            counts[week][2] += 1
    return Table("searches", ["week", "searches", "zero_results", "briefs"], [[w, *n] for w, n in counts.items()])


def _zero_results(store: SqlStore) -> Table:
    """Queries that found nothing, most frequent first, with when they were last asked."""
    rows = SearchAnalytics(store).zero_results(limit=100)
    return Table("zero_results", ["query", "searches", "last"], [[q, c, t.date() if t else None] for q, c, t in rows])


def _feedback(store: SqlStore, titles: dict[str, str]) -> Table:
    report = SearchAnalytics(store).report(limit=100)
    return Table(
        "feedback",
        ["title", "helpful", "not_helpful", "id"],
        [[titles.get(d, d), h, u, d] for d, h, u in report.feedback],
    )


def _coverage(docs: Sequence[Document], vocabulary: Vocabulary) -> Table:
    """Current documents (not superseded or archived) per kind, by project, phase (canonical) and language."""
    kinds = [k.value for k in Kind]
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for d in docs:
        if d.status in lifecycle.RETIRED:
            continue
        phase = vocabulary.canonical("phase", d.phase)
        for dimension, value in (("all", "all"), ("project", d.project), ("phase", phase), ("language", d.language)):
            counts[(dimension, value or "—")][d.kind.value] += 1
    order = {"all": 0, "language": 1, "phase": 2, "project": 3}
    rows = [
        [dimension, value, *(c[k] for k in kinds), sum(c.values())]
        for (dimension, value), c in sorted(
            counts.items(), key=lambda i: (order[i[0][0]], -sum(i[1].values()), i[0][1])
        )
    ]
    return Table("coverage", ["dimension", "value", *kinds, "total"], rows)


def _open_lessons(store: SqlStore, docs: Sequence[Document], today: dt.date) -> Table:
    """The 再発防止 backlog: lessons whose recommendation is neither adopted nor declined, by project and age."""
    done = {lesson_id for lesson_id, a in actions(store).items() if a.status is not ActionStatus.open}
    by_project: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for d in docs:
        if d.kind is not Kind.lesson or d.status is Status.archived or d.id in done:
            continue
        age = (today - (d.doc_date or d.created_at.date())).days
        bucket = next(n for n, (limit, _) in enumerate(AGE_BUCKETS) if limit is None or age < limit)
        by_project[d.project or "—"][bucket] += 1
    rows = [[p, *ages, sum(ages)] for p, ages in sorted(by_project.items(), key=lambda i: (-sum(i[1]), i[0]))]
    return Table("open_lessons", ["project", *(label for _, label in AGE_BUCKETS), "total"], rows)


def _briefs(store: SqlStore) -> Table:
    """Saved briefs: which items, and which lessons, were read before kickoff."""
    with store.db.reading() as session:
        rows = session.exec(select(SavedBrief).order_by(col(SavedBrief.id).desc()).limit(200)).all()
    out = []
    for b in rows:
        lessons = [i for i in b.items if i["kind"] == "lesson"]
        out.append(
            [
                b.project,
                b.created_at.date(),
                b.created_by,
                sum(1 for i in b.items if i["read"]),
                len(b.items),
                sum(1 for i in lessons if i["read"]),
                len(lessons),
                b.id,
            ]
        )
    return Table("briefs", ["project", "saved", "by", "items_read", "items", "lessons_read", "lessons", "id"], out)
