"""Request dependencies: the knowledge base, the caller, the reader's language, CSRF, and roles.

``StoreDep``-style ``Annotated`` aliases keep route signatures short. Every
route declares the role it needs with ``requires(Role.…)``; the check itself
is ``kb.identity.access.require`` on the caller ``web.auth`` resolved, so pages, API
and CLI share one rule. The route's rule is kept on the dependency
(``required_role``) so the authorisation matrix test can read it back.

CSRF, the one rule (OWASP's cheat sheet: origin verification with standard
headers, backed by a token): ``csrf_guard`` is a dependency of the whole app,
so it runs for every route and a new route cannot forget it. A POST, PUT,
PATCH or DELETE that a browser's ambient credentials authenticate (the
session cookie, or the trusted proxy's user header) and that carries no
``Authorization`` header is refused with 403 unless

1. its ``Origin`` names this app's own host (``Origin: null`` does not); or,
   without an ``Origin``,
2. its ``Referer`` does; or, with neither,
3. it carries this browser's CSRF token (the ``kb_csrf`` cookie's value, which
   every page's forms hold) in an ``X-CSRF-Token`` header or a ``csrf`` form
   field.

A bearer token is exempt: a browser never attaches one by itself, so a forged
cross-site request cannot carry it. A request with no credentials is left
alone: it is anonymous and gets 401 on any write. Page forms (the login
form included, which has no credentials to forge with) also check their
token on every post (``CsrfDep``), whatever the headers say.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from starlette.responses import Response

from app.caller import Caller, Channel
from kb.engine import KnowledgeBase
from kb.errors import Forbidden
from kb.identity.access import Principal, require, require_own_password
from kb.record.models import Role
from web.auth import SESSION_COOKIE, client_address, is_https, principal_of, via_trusted_proxy
from web.i18n import pick_language

__all__ = ["Forbidden", "Role"]

CSRF_COOKIE = "kb_csrf"
LANG_COOKIE = "kb_lang"


def requires(role: Role) -> Callable[[Request], Principal]:
    """A dependency that lets the request through only for ``role`` or above (401 or 403 otherwise)."""

    def check(request: Request) -> Principal:
        principal = principal_of(request)
        require(principal, role)
        return principal

    check.required_role = role  # type: ignore[attr-defined]
    return check


PrincipalDep = Annotated[Principal, Depends(principal_of)]


def get_kb(request: Request) -> KnowledgeBase:
    kb: KnowledgeBase = request.app.state.kb
    return kb


KbDep = Annotated[KnowledgeBase, Depends(get_kb)]


def language_of(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


LangDep = Annotated[str, Depends(language_of)]


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (double-submit cookie); a new one when it has none."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 43:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request))


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Reject a form post whose token does not match the cookie (a cross-site forgery)."""
    if not _token_matches(request, csrf):
        raise Forbidden("the form expired or came from another site: reload the page and try again")


CsrfDep = Depends(check_csrf)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"


async def csrf_guard(request: Request) -> None:
    """Refuse a state-changing request that a cookie authenticates and another site may have sent (see above)."""
    if request.method not in UNSAFE_METHODS or "authorization" in request.headers:
        return
    if not (request.cookies.get(SESSION_COOKIE) or via_trusted_proxy(request)):
        return
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is not None:
        if _same_host(origin, request.headers.get("host", "")):
            return
        raise Forbidden("this request came from another site; it was refused (cross-site request forgery)")
    token = request.headers.get(CSRF_HEADER, "")
    if not token and _is_form(request):
        field = (await request.form()).get("csrf")
        token = field if isinstance(field, str) else ""
    if not _token_matches(request, token):
        raise Forbidden("this request says neither where it came from nor carries the CSRF token; it was refused")


# What a browser signed in with a one-time password may still reach: the account page and its password form
# (to choose their own), logging in and out, the language switcher (the account page in the other language),
# and an invitation link: it is for another account (the link is the credential, not this session), and
# accepting it signs the browser in as that account, ending the one-time session as a login would.
OPEN_TO_ONE_TIME_PASSWORD = frozenset(
    {
        ("GET", "/account"),
        ("POST", "/account/password"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/lang/{code}"),
        ("GET", "/invite/{secret}"),
        ("POST", "/invite/{secret}"),
    }
)


def one_time_password_guard(request: Request) -> None:
    """Until a session's account replaces the one-time password a PMO admin issued, refuse everything else.

    A dependency of the whole app, like ``csrf_guard``, so a new route cannot
    forget it. Only requests the session cookie authenticates are looked at
    (a bearer token wins over the cookie, see ``web.auth``); the error handler
    sends a page to ``/account?first=1`` (303) and answers ``/api`` with 403.
    Static files are a mount, outside the app's dependencies.
    """
    if "authorization" in request.headers or not request.cookies.get(SESSION_COOKIE):
        return
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    if (method, getattr(route, "path", request.url.path)) in OPEN_TO_ONE_TIME_PASSWORD:
        return
    require_own_password(principal_of(request))


def _token_matches(request: Request, token: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie and token) and hmac.compare_digest(cookie.encode(), token.encode())


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("multipart/form-data", "application/x-www-form-urlencoded")


def _same_host(url: str, host: str) -> bool:
    """Whether ``url`` (an Origin or a Referer) names ``host`` (the Host header: host[:port]).

    The scheme is not compared: behind a TLS proxy that is not in
    ``KB_TRUSTED_PROXIES`` the app cannot tell HTTPS from HTTP, and a page on
    the other scheme of our own host name is not a cross-site attacker's.
    """
    netloc = urlsplit(url).netloc.lower()
    host = host.lower()
    return bool(netloc) and _without_default_port(netloc) == _without_default_port(host)


def _without_default_port(netloc: str) -> str:
    for port in (":80", ":443"):
        if netloc.endswith(port):
            return netloc[: -len(port)]
    return netloc


def caller_of(request: Request, who: Principal) -> Caller:
    """The application layer's caller for this request: ``who``, their address, and web or api by the path."""
    channel: Channel = "api" if request.url.path.startswith("/api/") else "web"
    return Caller(who, channel, client_address(request))
