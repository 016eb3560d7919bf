"""Subscriptions as use cases: follow something, list one's own with what was sent, stop, unsubscribe by link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.caller import Caller
from app.effects import audit
from kb.engine import KnowledgeBase
from kb.errors import Forbidden, NotFound, Unauthorized
from kb.identity.access import require
from kb.notify import egress, outbox, subscriptions
from kb.record.models import Role
from kb.record.notifications import Message, Subscription


def _signed_in(caller: Caller) -> str:
    who = caller.principal
    require(who, Role.reader)
    if not who.login or not who.authenticated:
        raise Unauthorized("log in first: subscriptions belong to an account")
    return who.login


def subscribe(
    kb: KnowledgeBase,
    *,
    caller: Caller,
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
    """Follow a saved search, a topic, a project, a kind or a document; webhooks are for contributors and up,
    to public addresses or those in KB_WEBHOOK_ALLOW_HOSTS (the server posts to the address given; delivery
    checks it again), or through KB_WEBHOOK_PROXY to a name only the proxy can resolve."""
    owner = _signed_in(caller)
    if channel == "webhook":
        require(caller.principal, Role.contributor)
        allowed = egress.Allowed.of(kb.settings.webhook_allow_hosts)
        egress.resolve(address, allowed, proxied=bool(kb.settings.webhook_proxy))  # looked up before the write
    if topic == "document":
        from app.documents import get as get_document  # visible or NotFound: no following what one cannot see

        get_document(kb, caller=caller, doc_id=target.strip())
    with kb.store.transaction():
        sub = subscriptions.new(
            kb.store.db,
            owner=owner,
            topic=topic,
            target=target,
            query=query,
            filters=filters,
            channel=channel,
            rhythm=rhythm,
            address=address,
            format=format,
            language=language,
        )
        audit(kb, caller, "subscribe", str(sub.id), topic=sub.topic, channel=sub.channel, rhythm=sub.rhythm)
    return sub


@dataclass
class Mine:
    subscription: Subscription
    messages: list[Message]

    @property
    def failed(self) -> list[Message]:
        return [m for m in self.messages if m.state == "failed"]


def mine(kb: KnowledgeBase, *, caller: Caller) -> list[Mine]:
    """The caller's subscriptions, each with its latest messages (sent, waiting, failed with the reason)."""
    owner = _signed_in(caller)
    subs = subscriptions.of_owner(kb.store.db, owner)
    sent = outbox.messages_of(kb.store.db, [s.id for s in subs if s.id is not None])
    return [Mine(s, [m for m in sent if m.subscription_id == s.id][:10]) for s in subs]


def own(kb: KnowledgeBase, *, caller: Caller, subscription_id: int) -> Subscription:
    """One of the caller's subscriptions (a PMO admin may read any); NotFound for someone else's."""
    owner = _signed_in(caller)
    sub = subscriptions.get(kb.store.db, subscription_id)
    if sub.owner != owner and not caller.principal.is_admin:
        raise NotFound(f"no subscription {subscription_id}")
    return sub


def stop(kb: KnowledgeBase, *, caller: Caller, subscription_id: int) -> Subscription:
    own(kb, caller=caller, subscription_id=subscription_id)
    with kb.store.transaction():
        sub = subscriptions.stop(kb.store.db, subscription_id)
        audit(kb, caller, "unsubscribe", str(subscription_id), topic=sub.topic)
    return sub


def unsubscribe(kb: KnowledgeBase, *, caller: Caller, subscription_id: int, token: str) -> Subscription:
    """Stop a subscription from the signed link in a message: no login needed, the signature is the proof."""
    try:
        sub = subscriptions.get(kb.store.db, subscription_id)
    except NotFound as e:
        raise Forbidden("this unsubscribe link is not valid") from e
    if not subscriptions.check_unsubscribe(sub, token):
        raise Forbidden("this unsubscribe link is not valid")
    with kb.store.transaction():
        sub = subscriptions.stop(kb.store.db, subscription_id)
        audit(kb, caller, "unsubscribe", str(subscription_id), topic=sub.topic, via_link=True)
    return sub
