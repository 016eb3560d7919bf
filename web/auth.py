"""Who sent this request: a bearer token, a browser session, a trusted proxy's header, or nobody.

``principal_of(request)`` resolves the caller once per request (cached on
``request.state``) in this order:

1. ``Authorization: Bearer <token>``: an API token; a wrong or revoked one is
   401 at once (a script should fail loudly, not fall back to anonymous).
2. The trusted proxy header (``KB_TRUSTED_USER_HEADER``), only when the
   request comes from ``KB_TRUSTED_PROXIES``; an unknown name gets a reader
   account on first sight.
3. The session cookie of a browser login.
4. Anonymous: a reader when ``KB_ANONYMOUS_ROLE=reader``, else nobody.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.errors import Conflict, NotFound, Unauthorized
from kb.identity.access import ANONYMOUS, Principal
from kb.identity.accounts import principal_of as user_principal
from kb.record.models import Role

SESSION_COOKIE = "kb_session"


def peer_address(request: Request) -> str | None:
    """The address of whoever opened the connection (the proxy, behind one)."""
    return request.client.host if request.client else None


def client_address(request: Request) -> str | None:
    """Where the request came from, for the audit log and login rate limits.

    Behind a trusted proxy (``KB_TRUSTED_PROXIES``) that is the nearest
    ``X-Forwarded-For`` entry that is not itself a trusted proxy; the header
    is ignored from anyone else, so a client cannot choose its address.
    """
    peer = peer_address(request)
    settings: Settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-for")
    if not forwarded or not _trusted(settings, peer):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(settings, hop):
            return hop
    return hops[0] if hops else peer


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def is_https(request: Request) -> bool:
    """Whether the browser's connection is HTTPS: directly, or per ``X-Forwarded-Proto`` from a trusted proxy.

    Decides the cookies' ``Secure`` flag, so a deployment that terminates TLS
    at its proxy still gets Secure session cookies.
    """
    if request.url.scheme == "https":
        return True
    settings: Settings = request.app.state.settings
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and _trusted(settings, peer_address(request))


def via_trusted_proxy(request: Request) -> bool:
    """Whether the trusted proxy's user header (``KB_TRUSTED_USER_HEADER``) authenticates this request."""
    settings: Settings = request.app.state.settings
    header = settings.trusted_user_header
    return bool(header and request.headers.get(header, "").strip()) and _trusted(settings, peer_address(request))


def _trusted(settings: Settings, address: str | None) -> bool:
    if not settings.trusted_proxies or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.trusted_proxies)))


def principal_of(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = _resolve(request)
    request.state.principal = principal
    return principal


def _resolve(request: Request) -> Principal:
    kb: KnowledgeBase = request.app.state.kb
    settings = kb.settings
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        found = kb.accounts.token_user(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthorized("the API token is not valid (wrong, revoked, or its user is disabled)")
        user, token = found
        return user_principal(user, "token", token.role_cap)
    if settings.trusted_user_header and _trusted(settings, peer_address(request)):
        login = request.headers.get(settings.trusted_user_header, "").strip()
        if login:
            return _proxy_user(kb, login, client_address(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session_user = kb.accounts.session_user(cookie)
        if session_user is not None:
            return user_principal(session_user, "session")
    if settings.anonymous_role == "reader":
        return Principal("", Role.reader, via="anonymous")
    return ANONYMOUS


def _proxy_user(kb: KnowledgeBase, login: str, address: str | None) -> Principal:
    """The account the proxy names; created as a reader the first time (a PMO admin raises the role)."""
    try:
        user = kb.accounts.user(login)
    except NotFound:
        try:
            user = kb.accounts.add_user(login, role=Role.reader, by="proxy", address=address)
        except Conflict:  # another request created it first
            user = kb.accounts.user(login)
    if not user.active:
        raise Unauthorized(f"the account {login!r} is disabled")
    return user_principal(user, "proxy")
