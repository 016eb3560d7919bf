"""Request dependencies: the knowledge base, the caller, the reader's language, CSRF, and roles.

``StoreDep``-style ``Annotated`` aliases keep route signatures short. Every
route declares the role it needs with ``requires(Role.…)``; the check itself
is ``kb.access.require`` on the caller ``web.auth`` resolved, so pages, API
and CLI share one rule. The route's rule is kept on the dependency
(``required_role``) so the authorisation matrix test can read it back.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import Response

from kb.access import Principal, require
from kb.engine import KnowledgeBase
from kb.errors import Forbidden
from kb.models import Role
from web.auth import is_https, principal_of
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
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf or not hmac.compare_digest(cookie, csrf):
        raise Forbidden("the form expired or came from another site: reload the page and try again")


CsrfDep = Depends(check_csrf)
