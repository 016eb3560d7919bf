"""Where the server may post: a webhook address must be http(s) and reach only public addresses.

A contributor chooses a webhook's address and the server POSTs to it, so
without this guard a subscription could aim the server at its own loopback,
the cloud metadata service (169.254.169.254) or a private service on the LAN
(server-side request forgery). Every address the host resolves to must be
global (``ipaddress``'s ``is_global``, and neither multicast nor reserved;
an IPv4 address carried inside an IPv6 one is judged as itself), unless the
host name, or a network holding the address, is in ``KB_WEBHOOK_ALLOW_HOSTS``:
that is how a company lets webhooks reach its own chat relay on the LAN.

The check runs when a subscription is made (a clear error naming the address)
and again at every delivery (``resolve`` returns the addresses it checked and
``kb.notify.webhook`` connects to those, so a name that resolves elsewhere
the second time, DNS rebinding, is never followed). Through an outbound
proxy (``KB_WEBHOOK_PROXY``) the check still runs first, but the proxy
connects to its own lookup's answer: ``kb.notify.webhook`` says what that leaves.

Through a proxy, a host name the server cannot resolve at all is left to the
proxy (``resolve(..., proxied=True)``: a Destination with no addresses): in
split-DNS networks only the proxy resolves outside names, and refusing them
would refuse every Slack or Teams webhook. The proxy's own rules then decide
where such a name may lead, an internal name only the proxy knows included.
A name the server does resolve is checked as always, an IP literal is always
checked, and a malformed name or an address spelling (``0x7f.1``) is never
handed on.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from kb.config import HOST_NAME
from kb.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

NOT_HTTP = "give the webhook's http:// or https:// address"
SETTING = "KB_WEBHOOK_ALLOW_HOSTS"
# 64:ff9b::/96 (RFC 6052) carries an IPv4 address for a NAT64 gateway to reach: judged as that address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(InvalidInput):
    """An address the server will not post to (not http(s), or an internal address not allowed): final."""


class Unresolvable(InvalidInput):
    """The host name was not found: an error to fix when subscribing, a failure to retry when delivering."""


@dataclass(frozen=True)
class Allowed:
    """``KB_WEBHOOK_ALLOW_HOSTS`` read: host names (exact, lower case) and networks (an address is a /32 or /128)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> Allowed:
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def covers(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self.networks)


@dataclass(frozen=True)
class Destination:
    """A checked webhook address: where to connect (``addresses``, in the resolver's order) and what to ask for.

    No ``addresses``: the server could not resolve the host and leaves the name
    to the proxy (only ``resolve(..., proxied=True)`` returns that).
    """

    scheme: str
    host: str
    port: int
    target: str  # path and query, as the request line carries them
    addresses: tuple[str, ...]


def split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL, or Refused (pure: no lookup)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise Refused(NOT_HTTP) from e
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise Refused(NOT_HTTP)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target


def kind(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address (``loopback``, ``private``, ``link-local``…), or None when it is.

    The words are a closed set: ``web.error_words`` puts each in the reader's language.
    """
    inner = _carried(ip)
    if inner is not None:
        return kind(inner)
    for name, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return name
    return None if ip.is_global else "shared"  # 100.64.0.0/10, carrier-grade NAT's shared space (RFC 6598)


def _carried(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped (::ffff:a.b.c.d), 6to4 (2002::/16) or NAT64."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def lookup(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection (the system resolver, as a connection uses)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve(url: str, allowed: Allowed, *, proxied: bool = False, resolver: Resolver | None = None) -> Destination:
    """Check ``url`` and resolve its host once: the Destination to connect to, or Refused / Unresolvable.

    The host name allowed as such admits whatever it resolves to; otherwise
    every address must be public or inside an allowed network (one bad
    address refuses the name: a connection may pick any of them). ``proxied``
    (the request goes through ``KB_WEBHOOK_PROXY``): a well-formed name the
    server cannot resolve is handed to the proxy unchecked, with no addresses.
    """
    scheme, host, port, target = split(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = list((resolver or lookup)(host, port))
            failure = ""
        except (OSError, UnicodeError) as e:  # socket.gaierror is an OSError; an over-long label a UnicodeError
            found, failure = [], f" ({e})"
        if not found and proxied and _a_dns_name(host):
            return Destination(scheme, host, port, target, ())
        if not found:
            raise Unresolvable(f"the webhook address {url} cannot be used: its host {host} was not found{failure}")
    if host.lower() not in allowed.hosts:
        for text in found:
            ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
            why = kind(ip)
            if why is not None and not allowed.covers(ip):
                raise Refused(
                    f"the webhook address {url} is not allowed: it leads to {ip}, a non-public address ({why}); "
                    f"the server's administrator can allow it in {SETTING}"
                )
    return Destination(scheme, host, port, target, tuple(found))


def _a_dns_name(host: str) -> bool:
    """Whether ``host`` is a DNS name to hand a proxy unresolved: ASCII labels, the last one starting with a letter,
    and not ``localhost`` or a name under it.

    No top-level domain is numeric (RFC 3696 §2), so a last label such as
    ``1`` or ``0x7f000001`` means an address spelling (``0x7f.1``,
    ``2130706433``) that the proxy's parser may read as 127.0.0.1; a name
    with a space or a colon could change the proxy's request line; and
    ``localhost`` names are loopback by definition (RFC 6761 §6.3), the
    proxy's own.
    """
    top = host.rsplit(".", 1)[-1]
    return HOST_NAME.match(host) is not None and top[0].isalpha() and top != "localhost"  # ASCII: HOST_NAME says so
