"""Logging in and out in the browser, and the audit log page.

A login starts a new server-side session: the cookie holds 256 random bits
(only their SHA-256 is stored), is HttpOnly and SameSite=Lax, marked Secure
over HTTPS, and expires with the session (``KB_SESSION_HOURS``). Any session
cookie the browser brought is ended first, so the id always changes at login
(no session fixation). Login and logout forms carry the CSRF token like every
other form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kb.errors import TooManyRequests, Unauthorized
from web.auth import SESSION_COOKIE, client_address, is_https
from web.deps import CsrfDep, KbDep, LangDep, Role, requires
from web.pages import _local, render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, kb: KbDep, lang: LangDep, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", lang, next=_local(next), error=None, no_users=kb.accounts.count() == 0)


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfDep])
def login_submit(
    request: Request,
    kb: KbDep,
    lang: LangDep,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        kb.accounts.end_session(old)
    try:
        _, secret = kb.accounts.login(
            login.strip(), password, address=client_address(request), hours=kb.settings.session_hours
        )
    except (Unauthorized, TooManyRequests) as exc:
        key = "login_locked" if isinstance(exc, TooManyRequests) else "login_failed"
        return render(request, "login.html", lang, status_code=exc.status, next=_local(next), error=key, no_users=False)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(kb.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return response


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, kb: KbDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        kb.accounts.end_session(secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/audit", response_class=HTMLResponse, dependencies=[Depends(requires(Role.pmo_admin))])
def audit_page(
    request: Request,
    kb: KbDep,
    lang: LangDep,
    actor: str = "",
    action: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The audit log, newest first, 100 a page, filtered by actor or action."""
    events = kb.audit.events(limit=101, offset=(page - 1) * 100, actor=actor or None, action=action or None)
    return render(
        request, "audit.html", lang, events=events[:100], more=len(events) > 100, page=page, actor=actor, action=action
    )
