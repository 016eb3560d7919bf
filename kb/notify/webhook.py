"""Webhooks: a JSON body (ours, Slack's or Teams'), signed with HMAC-SHA256, posted with ``http.client``.

Headers a receiver checks: ``X-KB-Signature: sha256=<hex>`` is the HMAC of
``<timestamp>.<body>`` under the subscription's secret (the timestamp in
``X-KB-Timestamp``, so a captured request cannot be replayed later with the
same meaning); ``X-KB-Idempotency-Key`` is the same on every retry of one
message. Slack's incoming webhooks read ``text`` and ``blocks``; Teams' read
a MessageCard. Any status outside 2xx is a failure, retried with back-off;
a redirect is not followed (it could lead anywhere, unchecked).

The address is checked and resolved once per try (``kb.notify.egress``) and
the connection goes to an address that was checked, never to a second
lookup's answer: the request still names the host (``Host``, and for https
the TLS server name, with the certificate verified against the host name).

Through an outbound proxy (``KB_WEBHOOK_PROXY``, and only that setting: the
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` variables are never read) the
target is still resolved and checked here first, and refused the same way;
then https goes through ``CONNECT host:port`` with TLS to the target itself
(the proxy relays bytes it cannot read; the certificate is verified against
the host name), http as a request for the absolute URI. The proxy is not
checked against the guard: the operator configures it, and it usually sits
on the LAN. What the server cannot close: the proxy resolves the host name
again, so a name whose DNS answer changes between our check and the proxy's
lookup (DNS rebinding) reaches what the proxy's answer says; the proxy's own
rules are the guard for that window. A name the server cannot resolve at all
(split DNS: only the proxy resolves outside names) is left to the proxy
unchecked, ``egress.resolve`` says when.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from kb.notify.content import Content
from kb.notify.egress import Allowed, Destination, resolve

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


def post(
    url: str, payload: dict[str, Any], *, secret: str, key: str, allowed: Allowed, proxy: str | None = None
) -> int:
    """POST the signed body to ``url`` once checked (through ``proxy`` when given); the HTTP status, or why not.

    ``egress.Refused`` when the address may not be reached (the caller fails
    the message for good, and the proxy never hears of it),
    ``egress.Unresolvable`` or an ``OSError`` when the far end (or the proxy)
    could not be reached, RuntimeError for an answer outside 2xx.
    """
    destination = resolve(url, allowed, proxied=bool(proxy))
    data = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "pmo-kb-webhook/1",
        "X-KB-Timestamp": stamp,
        "X-KB-Signature": sign(secret, stamp, data),
        "X-KB-Idempotency-Key": key,
    }
    if proxy:
        connection, target, credentials = _through(Proxy.of(proxy), destination)
        headers.update(credentials)
    else:
        connection, target = _connection(destination), destination.target
    try:
        connection.request("POST", target, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise RuntimeError(f"the webhook answered HTTP {response.status} {response.reason}")
    return int(response.status)


@dataclass(frozen=True)
class Proxy:
    """``KB_WEBHOOK_PROXY`` read: where the proxy listens and the ``Proxy-Authorization`` to send it, if any."""

    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def of(cls, url: str) -> Proxy:
        """``http://[user:password@]host[:port]`` (checked by ``Settings``); port 80 when none is given, as URLs say.

        The user and password may be percent-encoded (``p%40ss`` for ``p@ss``);
        they are sent as Basic credentials, the scheme corporate proxies accept.
        """
        parts = urlsplit(url.strip())
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(parts.hostname or "", parts.port or 80, authorization)


def _through(proxy: Proxy, destination: Destination) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection to ``proxy`` for ``destination``, the request target and the headers to add to the request.

    https: a CONNECT tunnel to the host name and port, TLS inside it to the
    target (``set_tunnel``: the server name and certificate check are the
    tunnel host's), the credentials on the CONNECT only, so the target never
    sees them. http: the absolute URI (``Host`` is the URL's), the credentials
    on the request itself, where the proxy reads (and drops) them.
    """
    credentials = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}
    if destination.scheme == "https":
        secure = http.client.HTTPSConnection(
            proxy.host, proxy.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
        # Python 3.11 writes an IPv6 literal unbracketed in the CONNECT line (3.12 brackets it): docs say so
        secure.set_tunnel(destination.host, destination.port, headers=credentials)
        return secure, destination.target, {}
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    netloc = host if destination.port == 80 else f"{host}:{destination.port}"
    plain = http.client.HTTPConnection(proxy.host, proxy.port, timeout=TIMEOUT)
    return plain, f"http://{netloc}{destination.target}", credentials


def _connection(destination: Destination) -> http.client.HTTPConnection:
    if destination.scheme == "https":
        return _PinnedHTTPS(destination, context=ssl.create_default_context())
    return _PinnedHTTP(destination)


def _connect(destination: Destination, timeout: float) -> socket.socket:
    """A TCP connection to the first checked address that answers (as ``socket.create_connection`` tries each)."""
    error: OSError | None = None
    for address in destination.addresses:
        try:
            return socket.create_connection((address, destination.port), timeout)
        except OSError as e:
            error = e
    raise error or OSError(f"no address to connect to for {destination.host}")


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to the checked addresses; the ``Host`` header names the host as the URL does."""

    def __init__(self, destination: Destination) -> None:
        super().__init__(destination.host, destination.port, timeout=TIMEOUT)
        self.destination = destination

    def connect(self) -> None:
        self.sock = _connect(self.destination, TIMEOUT)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the checked addresses, the TLS server name and certificate check against the host name."""

    def __init__(self, destination: Destination, *, context: ssl.SSLContext) -> None:
        super().__init__(destination.host, destination.port, timeout=TIMEOUT, context=context)
        self.destination, self.tls = destination, context

    def connect(self) -> None:
        raw = _connect(self.destination, TIMEOUT)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.destination.host)
        except BaseException:
            raw.close()
            raise
