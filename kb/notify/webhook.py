"""Webhooks: a JSON body (ours, Slack's or Teams'), signed with HMAC-SHA256, posted with ``urllib``.

Headers a receiver checks: ``X-KB-Signature: sha256=<hex>`` is the HMAC of
``<timestamp>.<body>`` under the subscription's secret (the timestamp in
``X-KB-Timestamp``, so a captured request cannot be replayed later with the
same meaning); ``X-KB-Idempotency-Key`` is the same on every retry of one
message. Slack's incoming webhooks read ``text`` and ``blocks``; Teams' read
a MessageCard. Any status outside 2xx is a failure, retried with back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from kb.notify.content import Content

TIMEOUT = 15.0


def body(content: Content, *, format: str, key: str, event: str) -> dict[str, Any]:
    """The JSON body for ``format`` (``json``, ``slack`` or ``teams``)."""
    items = [{"id": i.id, "title": i.title, "kind": i.kind, "url": i.url, "summary": i.summary} for i in content.items]
    if format == "slack":
        lines = [f"• <{i.url}|{_slack(i.title)}> [{i.kind}]" for i in content.items]
        text = "\n".join([f"*{_slack(content.subject)}*", *lines])
        if content.link:
            text += f"\n<{content.link}|{_slack(content.link_label)}>"
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    if format == "teams":
        facts = [{"name": i.kind, "value": f"[{i.title}]({i.url})"} for i in content.items]
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": content.subject,
            "title": content.subject,
            "text": content.intro,
            "sections": [{"facts": facts}],
        }
        if content.link:
            card["potentialAction"] = [
                {"@type": "OpenUri", "name": content.link_label, "targets": [{"os": "default", "uri": content.link}]}
            ]
        return card
    return {
        "event": event,
        "id": key,
        "subject": content.subject,
        "text": content.text(),
        "items": items,
        "link": content.link or None,
        **content.extra,
    }


def _slack(text: str) -> str:
    """Slack's three control characters escaped (its mrkdwn reads <, > and & as markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign(secret: str, timestamp: str, payload: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post(url: str, payload: dict[str, Any], *, secret: str, key: str) -> int:
    """POST the signed body; the HTTP status, or an exception saying why it failed (non-2xx included)."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "pmo-kb-webhook/1",
            "X-KB-Timestamp": stamp,
            "X-KB-Signature": sign(secret, stamp, data),
            "X-KB-Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # http(s) only: checked when saved
            return int(response.status)
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"the webhook answered HTTP {e.code} {e.reason}") from e
