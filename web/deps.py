"""Request dependencies: the knowledge base, the reader's language, CSRF, and roles.

``StoreDep``-style ``Annotated`` aliases keep route signatures short. Roles are
declared on every route now (``requires(Role.contributor)``) so enforcing them
later, with API tokens and browser sessions, changes no route's shape; today
every request acts as a PMO admin.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import Response

from kb.engine import KnowledgeBase
from kb.errors import KbError
from web.i18n import pick_language

CSRF_COOKIE = "kb_csrf"
LANG_COOKIE = "kb_lang"


class Role(IntEnum):
    """Ordered: a role may do everything the ones below it may."""

    reader = 1
    contributor = 2
    pmo_admin = 3


class Forbidden(KbError):
    status = 403


def current_role(request: Request) -> Role:
    """The caller's role. No authentication yet: everyone is a PMO admin (documented in the README)."""
    return Role.pmo_admin


def requires(role: Role) -> Callable[[Request], Role]:
    def check(request: Request) -> Role:
        actual = current_role(request)
        if actual < role:
            raise Forbidden(f"this needs the {role.name} role")
        return actual

    return check


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
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Reject a form post whose token does not match the cookie (a cross-site forgery)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf or not hmac.compare_digest(cookie, csrf):
        raise Forbidden("the form expired or came from another site: reload the page and try again")


CsrfDep = Depends(check_csrf)
