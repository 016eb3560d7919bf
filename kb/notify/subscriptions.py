"""Subscriptions kept in the record: create, list, stop; their secrets (unsubscribe links, feed URLs).

The rules a subscription must satisfy live here, so the page, the API and the
CLI refuse the same things with the same words.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from kb.errors import InvalidInput, NotFound
from kb.notify import egress
from kb.record.notifications import Subscription
from kb.record.transaction import Database

TOPICS = ("search", "tag", "category", "phase", "project", "kind", "document")
CHANNELS = ("inbox", "email", "webhook", "feed")
RHYTHMS = ("now", "daily", "weekly")
FORMATS = ("json", "slack", "teams")


def new(
    db: Database,
    *,
    owner: str,
    topic: str,
    target: str = "",
    query: str = "",
    filters: Mapping[str, Any] | None = None,
    channel: str = "inbox",
    rhythm: str = "now",
    address: str = "",
    format: str = "json",
    language: str = "ja",
) -> Subscription:
    """A new active subscription for ``owner``, or InvalidInput naming what is wrong."""
    if topic not in TOPICS:
        raise InvalidInput(f"follow one of: {', '.join(TOPICS)} (not {topic!r})")
    if channel not in CHANNELS:
        raise InvalidInput(f"deliver by one of: {', '.join(CHANNELS)} (not {channel!r})")
    if rhythm not in RHYTHMS:
        raise InvalidInput(f"send {' / '.join(RHYTHMS)} (not {rhythm!r})")
    if format not in FORMATS:
        raise InvalidInput(f"webhook bodies are {', '.join(FORMATS)} (not {format!r})")
    query, target, address = query.strip(), target.strip(), address.strip()
    if topic == "search" and not query:
        raise InvalidInput("a saved search needs words to search for")
    if topic != "search" and not target:
        raise InvalidInput(f"name the {topic} to follow")
    if channel == "email" and ("@" not in address or any(c in address for c in " \r\n,;<>")):
        raise InvalidInput("give one email address to send to, like pm@example.com")
    if channel == "webhook":
        egress.split(address)  # http(s) with a host; where it leads is checked by the caller (a lookup)
    if channel in ("inbox", "feed"):
        address = ""
    kept = {k: [str(v) for v in vs if str(v).strip()] for k, vs in (filters or {}).items() if vs}
    sub = Subscription(
        owner=owner,
        topic=topic,
        target=target[:500],
        query=query[:2000],
        filters=kept,
        channel=channel,
        rhythm=rhythm,
        address=address[:1000],
        format=format,
        language=language if language in ("ja", "en") else "ja",
        secret=secrets.token_hex(32),
        feed_token=secrets.token_urlsafe(32),
    )
    with db.writing() as session:
        session.add(sub)
        session.flush()
        session.refresh(sub)
        return sub


def get(db: Database, subscription_id: int) -> Subscription:
    with db.reading() as session:
        sub = session.get(Subscription, subscription_id)
        if sub is None:
            raise NotFound(f"no subscription {subscription_id}")
        return sub


def of_owner(db: Database, owner: str) -> list[Subscription]:
    with db.reading() as session:
        query = select(Subscription).where(Subscription.owner == owner).order_by(col(Subscription.id).desc())
        return list(session.exec(query))


def active(db: Database) -> list[Subscription]:
    with db.reading() as session:
        return list(session.exec(select(Subscription).where(col(Subscription.active).is_(True))))


def by_feed_token(db: Database, token: str) -> Subscription:
    """The feed subscription whose secret URL holds ``token`` (NotFound otherwise, the same for every miss)."""
    with db.reading() as session:
        sub = session.exec(select(Subscription).where(Subscription.feed_token == token)).first()
    if sub is None or not hmac.compare_digest(sub.feed_token, token) or sub.channel != "feed":
        raise NotFound("no such feed")
    return sub


def stop(db: Database, subscription_id: int) -> Subscription:
    """Deactivate a subscription (its history stays for the owner and the PMO)."""
    with db.writing() as session:
        sub = session.get(Subscription, subscription_id)
        if sub is None:
            raise NotFound(f"no subscription {subscription_id}")
        sub.active = False
        session.add(sub)
        return sub


def unsubscribe_token(sub: Subscription) -> str:
    """The signature an unsubscribe link carries: HMAC-SHA256 of the subscription's id under its own secret."""
    return hmac.new(sub.secret.encode(), f"unsubscribe:{sub.id}".encode(), hashlib.sha256).hexdigest()


def check_unsubscribe(sub: Subscription, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(sub), token)
