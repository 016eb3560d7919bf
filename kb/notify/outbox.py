"""The outbox: notifications queued with a durable cursor, formed into messages, claimed, sent once.

Lossless and once, step by step:

1. ``record`` writes the notifications a batch of changes produced and moves
   the matcher's cursor past those changes, in one transaction that first
   re-reads the cursor under a lock (``FOR UPDATE`` on PostgreSQL, the write
   lock on SQLite): a second replica that matched the same changes finds the
   cursor moved and writes nothing; a crash before the commit leaves the
   cursor where it was, so the changes are matched again. Each notification's
   ``key`` is unique besides.
2. ``form`` gathers due notifications into messages (a digest gathers a
   week's), claiming them with ``FOR UPDATE SKIP LOCKED``; the message's key
   is fixed then, so every later try sends the same message.
3. ``claim`` leases pending messages to one sender (``SKIP LOCKED``: two
   replicas never take the same one) and records the attempt; ``finish``
   records the outcome. A sender killed mid-send leaves its lease to run out
   (``KB_NOTIFY_LEASE_SECONDS``); the message is then sent again *with the
   same key* (``Message-ID``, ``X-KB-Idempotency-Key``), which is what lets a
   receiver drop the one copy that may have left before the crash. Inbox
   messages are written in the same transaction that marks them sent: exactly
   once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import col, func, select

from kb.record.models import utcnow
from kb.record.notifications import DeliveryAttempt, Message, Notification, NotifyCursor, Subscription
from kb.record.transaction import Database

MATCHER = "matcher"
# Seconds before the first retry; doubled each time, up to MAX_BACKOFF (an SMTP server restarting, a receiver
# deploying: minutes, not seconds; a day-long outage is covered by KB_NOTIFY_MAX_ATTEMPTS=8 → ~2 h of tries).
FIRST_BACKOFF = 30.0
MAX_BACKOFF = 6 * 3600.0


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min, … at most 6 h."""
    return dt.timedelta(seconds=min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, attempts - 1)))


def due_time(rhythm: str, now: dt.datetime) -> dt.datetime:
    """When a match made ``now`` goes out: at once, at the next UTC midnight (daily) or next Monday (weekly)."""
    if rhythm == "now":
        return now
    midnight = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    if rhythm == "daily":
        return midnight
    return midnight + dt.timedelta(days=(7 - midnight.weekday()) % 7)


def cursor(db: Database) -> int:
    """How far the matcher has read the change log (0 before the first pass on a fresh database)."""
    with db.reading() as session:
        row = session.get(NotifyCursor, MATCHER)
        return row.seq if row is not None else 0


def record(db: Database, *, expected: int, seq: int, notifications: Sequence[Notification]) -> int:
    """Queue ``notifications`` and move the cursor from ``expected`` to ``seq``, together; how many were new.

    Writes nothing when the cursor is no longer at ``expected`` (another
    replica matched these changes first).
    """
    with db.transaction() as session:
        row = session.exec(select(NotifyCursor).where(NotifyCursor.name == MATCHER).with_for_update()).one_or_none()
        if row is None:
            row = NotifyCursor(name=MATCHER, seq=0)
        if row.seq != expected:
            return 0
        keys = [n.key for n in notifications]
        known = set(session.exec(select(Notification.key).where(col(Notification.key).in_(keys)))) if keys else set()
        fresh = [n for n in {n.key: n for n in notifications}.values() if n.key not in known]
        if fresh:  # one executemany: a batch can queue a hundred thousand (bench/notify.py)
            session.execute(insert(Notification), [n.model_dump(exclude={"id"}) for n in fresh])
        row.seq, row.updated_at = seq, utcnow()
        session.add(row)
        return len(fresh)


def queue(db: Database, notifications: Iterable[Notification]) -> int:
    """Queue notifications inside the caller's transaction (a stage gate); ones already queued are skipped."""
    with db.writing() as session:
        rows = list(notifications)
        keys = [n.key for n in rows]
        known = set(session.exec(select(Notification.key).where(col(Notification.key).in_(keys)))) if keys else set()
        fresh = [n for n in rows if n.key not in known]
        session.add_all(fresh)
        return len(fresh)


def form(db: Database, *, now: dt.datetime, limit: int = 1000) -> int:
    """Gather due notifications into messages, one per subscription (or per gate notification); how many."""
    with db.transaction() as session:
        due = list(
            session.exec(
                select(Notification)
                .where(col(Notification.message_id).is_(None))
                .where(col(Notification.due_at) <= now)
                .where(Notification.channel != "feed")
                .order_by(col(Notification.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        groups: dict[tuple[object, ...], list[Notification]] = defaultdict(list)
        for n in due:
            group = (n.subscription_id, n.recipient, n.channel) if n.subscription_id is not None else (n.key,)
            groups[group].append(n)
        for members in groups.values():
            first = members[0]
            message = Message(
                key=uuid.uuid4().hex,
                recipient=first.recipient,
                subscription_id=first.subscription_id,
                channel=first.channel,
                next_at=now,
            )
            session.add(message)
            session.flush()
            for n in members:
                n.message_id = message.id
                session.add(n)
        return len(groups)


def claim(db: Database, *, now: dt.datetime, worker: str, lease: float, limit: int = 50) -> list[Message]:
    """Lease up to ``limit`` due messages to ``worker`` and record the attempt; none another sender holds."""
    with db.transaction() as session:
        rows = list(
            session.exec(
                select(Message)
                .where(Message.state == "pending")
                .where(col(Message.next_at) <= now)
                .where((col(Message.lease_until).is_(None)) | (col(Message.lease_until) < now))
                .order_by(col(Message.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for m in rows:
            m.lease_until = now + dt.timedelta(seconds=lease)
            m.claimed_by = worker
            m.attempts += 1
            session.add(m)
            session.add(DeliveryAttempt(message_id=m.id or 0, at=now, worker=worker, outcome="started"))
        session.flush()
        for m in rows:
            session.expunge(m)
        return rows


def items(db: Database, message_id: int) -> list[Notification]:
    with db.reading() as session:
        query = select(Notification).where(Notification.message_id == message_id).order_by(col(Notification.id))
        return list(session.exec(query))


@dataclass
class Outcome:
    """What became of one try: ``sent``, ``withheld`` (nothing the recipient may see) or ``failed``.

    A ``final`` failure is not retried (an address the server refuses to
    reach stays refused); any other is, after ``backoff``.
    """

    state: str
    detail: str = ""
    delivered: tuple[str, ...] = ()
    brief_id: int | None = None
    final: bool = False


def finish(
    db: Database, message: Message, outcome: Outcome, *, now: dt.datetime, worker: str, max_attempts: int
) -> str:
    """Record the try's outcome; a failure is retried after ``backoff`` until ``max_attempts`` (a final one is
    not). The new state.

    A sender whose lease ran out (another took the message over) records its
    attempt but leaves the message to the one holding it.
    """
    with db.transaction() as session:
        row = session.exec(select(Message).where(Message.id == message.id).with_for_update()).one()
        session.add(
            DeliveryAttempt(
                message_id=row.id or 0, at=now, worker=worker, outcome=outcome.state, detail=outcome.detail[:2000]
            )
        )
        if row.claimed_by != worker or row.attempts != message.attempts or row.state != "pending":
            return row.state
        row.lease_until = None
        if outcome.state == "failed":
            row.last_error = outcome.detail[:2000]
            if row.attempts >= max_attempts or outcome.final:
                row.state = "failed"
            else:
                row.next_at = now + backoff(row.attempts)
        else:
            row.state, row.sent_at, row.last_error = outcome.state, now, outcome.detail[:2000]
            row.delivered, row.brief_id = list(outcome.delivered), outcome.brief_id
        session.add(row)
        return row.state


# -- what owners and the PMO read ----------------------------------------------------------------------------


def inbox(db: Database, recipient: str, *, limit: int = 100) -> list[Message]:
    """The recipient's inbox: messages delivered to it, newest first."""
    with db.reading() as session:
        query = (
            select(Message)
            .where(Message.recipient == recipient, Message.channel == "inbox", Message.state == "sent")
            .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
            .limit(limit)
        )
        return list(session.exec(query))


def unread(db: Database, recipient: str) -> int:
    with db.reading() as session:
        query = select(func.count()).where(
            Message.recipient == recipient,
            Message.channel == "inbox",
            Message.state == "sent",
            col(Message.read_at).is_(None),
        )
        return int(session.exec(query).one())


def message(db: Database, message_id: int) -> Message | None:
    with db.reading() as session:
        return session.get(Message, message_id)


def mark_read(db: Database, message_id: int, *, now: dt.datetime) -> None:
    with db.writing() as session:
        row = session.get(Message, message_id)
        if row is not None and row.read_at is None:
            row.read_at = now
            session.add(row)


def messages_of(db: Database, subscription_ids: Sequence[int], *, limit: int = 200) -> list[Message]:
    """The messages of these subscriptions, newest first (what the owner sees: sent, waiting, failed)."""
    if not subscription_ids:
        return []
    with db.reading() as session:
        query = (
            select(Message)
            .where(col(Message.subscription_id).in_(list(subscription_ids)))
            .order_by(col(Message.id).desc())
            .limit(limit)
        )
        return list(session.exec(query))


def feed_entries(db: Database, subscription_id: int, *, limit: int = 50) -> list[Notification]:
    """The notifications a feed subscription collected, newest first."""
    with db.reading() as session:
        query = (
            select(Notification)
            .where(Notification.subscription_id == subscription_id)
            .order_by(col(Notification.id).desc())
            .limit(limit)
        )
        return list(session.exec(query))


def pending_count(db: Database) -> int:
    with db.reading() as session:
        unformed = session.exec(
            select(func.count()).where(col(Notification.message_id).is_(None), Notification.channel != "feed")
        ).one()
        waiting = session.exec(select(func.count()).where(Message.state == "pending")).one()
        return int(unformed) + int(waiting)


@dataclass
class Numbers:
    """The PMO's view of push delivery."""

    per_topic: list[tuple[str, str, int]]  # topic, target (or query), active subscriptions
    failures: list[Message]
    reach: list[tuple[str, int]]  # document id, how many people it reached
    states: dict[str, int]


def numbers(db: Database, *, limit: int = 20) -> Numbers:
    with db.reading() as session:
        subs = session.exec(select(Subscription).where(col(Subscription.active).is_(True))).all()
        per_topic = Counter((s.topic, s.query if s.topic == "search" else s.target) for s in subs)
        failures = list(
            session.exec(select(Message).where(Message.state == "failed").order_by(col(Message.id).desc()).limit(limit))
        )
        sent = session.exec(select(Message.recipient, Message.delivered).where(Message.state == "sent")).all()
        states = dict(session.exec(select(Message.state, func.count()).group_by(Message.state)).all())
    reached: dict[str, set[str]] = defaultdict(set)
    for recipient, delivered in sent:
        for doc_id in delivered:
            reached[doc_id].add(recipient)
    reach = sorted(((d, len(r)) for d, r in reached.items()), key=lambda x: (-x[1], x[0]))[:limit]
    top = [(topic, target, n) for (topic, target), n in per_topic.most_common(limit)]
    return Numbers(top, failures, reach, {str(k): int(v) for k, v in states.items()})
