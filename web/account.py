"""Logging in and out, one's own account (password, display name, language, tokens), invitations, the audit log.

A login starts a new server-side session: the cookie holds 256 random bits
(only their SHA-256 is stored), is HttpOnly and SameSite=Lax, marked Secure
over HTTPS, and expires with the session (``KB_SESSION_HOURS``). Any session
cookie the browser brought is ended first, so the id always changes at login
(no session fixation); changing one's password or accepting an invitation
starts a new one too. Every form carries the CSRF token (``CsrfDep``).

A token's secret is rendered once, in the response of the post that created
it (never in a redirect target or a later page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import accounts as app_accounts
from kb.errors import InvalidInput, NotFound, TooManyRequests, Unauthorized
from kb.identity.access import Principal
from kb.record.models import User
from web.auth import SESSION_COOKIE, is_https, principal_of
from web.deps import LANG_COOKIE, CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.i18n import LANGUAGES
from web.pages import _local, render
from web.schemas import RowId

router = APIRouter(include_in_schema=False)
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
ROLE_CAPS = ("", "reader", "contributor", "pmo_admin")


def _signed_in(request: Request, response: Response, secret: str, user: User, hours: float) -> Response:
    """Set the session cookie (and the account's chosen language) on ``response``."""
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=int(hours * 3600), httponly=True, samesite="lax", secure=is_https(request)
    )
    if user.language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, user.language, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, kb: KbDep, lang: LangDep, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", lang, next=_local(next), error=None, no_users=not app_accounts.any_users(kb))


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfDep])
def login_submit(
    request: Request,
    kb: KbDep,
    lang: LangDep,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    hours = kb.settings.session_hours
    try:
        user, secret = app_accounts.log_in(
            kb,
            caller=caller_of(request, principal_of(request)),
            login=login,
            password=password,
            hours=hours,
            replacing=request.cookies.get(SESSION_COOKIE),
        )
    except (Unauthorized, TooManyRequests) as exc:
        key = "login_locked" if isinstance(exc, TooManyRequests) else "login_failed"
        return render(request, "login.html", lang, status_code=exc.status, next=_local(next), error=key, no_users=False)
    # a one-time password is replaced first: the account page says why
    target = "/account?first=1" if user.must_change_password else _local(next)
    return _signed_in(request, RedirectResponse(target, status_code=303), secret, user, hours)


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, kb: KbDep) -> Response:
    app_accounts.log_out(
        kb, caller=caller_of(request, principal_of(request)), secret=request.cookies.get(SESSION_COOKIE)
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- my account ------------------------------------------------------------------


def _account_page(
    request: Request, kb: KbDep, who: Principal, lang: str, status_code: int = 200, **extra: object
) -> HTMLResponse:
    caller = caller_of(request, who)
    context: dict[str, object] = {
        "me": app_accounts.me(kb, caller=caller),
        "tokens": app_accounts.tokens(kb, caller=caller),
        "caps": [c for c in ROLE_CAPS if not c or (who.role and who.role.at_least(Role(c)))],
        "first": request.query_params.get("first") == "1",
        "notice": request.query_params.get("done", ""),
        "error": None,
        "new_token": None,
    }
    context.update(extra)
    return render(request, "account.html", lang, status_code=status_code, **context)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, kb: KbDep, who: ReaderDep, lang: LangDep) -> HTMLResponse:
    """Everyone's own page: password, display name, language, API tokens."""
    return _account_page(request, kb, who, lang)


@router.post("/account/password", response_class=HTMLResponse, dependencies=[CsrfDep])
def account_password(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
    again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Change my password (the current one first); this browser stays signed in with a new session."""
    if new != again:
        return _account_page(request, kb, who, lang, status_code=422, error="password_mismatch")
    hours = kb.settings.session_hours
    try:
        user, secret = app_accounts.change_password(
            kb, caller=caller_of(request, who), current=current, new=new, hours=hours
        )
    except InvalidInput as exc:
        return _account_page(request, kb, who, lang, status_code=422, error_text=exc.message, error="password_bad")
    return _signed_in(request, RedirectResponse("/account?done=password", status_code=303), secret, user, hours)


@router.post("/account/profile", dependencies=[CsrfDep])
def account_profile(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    display_name: Annotated[str, Form(max_length=200)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """My display name and the language the pages speak to me in."""
    user = app_accounts.update_profile(kb, caller=caller_of(request, who), display_name=display_name, language=language)
    response = RedirectResponse("/account?done=profile", status_code=303)
    if user.language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, user.language, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[CsrfDep])
def account_token_create(
    request: Request,
    kb: KbDep,
    who: ReaderDep,
    lang: LangDep,
    name: Annotated[str, Form(max_length=200)] = "",
    role_cap: Annotated[str, Form(max_length=32)] = "",
) -> HTMLResponse:
    """A new token of mine: its secret is on this response only."""
    cap = Role(role_cap) if role_cap in ROLE_CAPS[1:] else None
    token, secret = app_accounts.create_token(kb, caller=caller_of(request, who), name=name, role_cap=cap)
    return _account_page(request, kb, who, lang, status_code=201, new_token=(token, secret))


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def account_token_revoke(request: Request, kb: KbDep, who: ReaderDep, token_id: RowId, back: str = "") -> Response:
    app_accounts.revoke_token(kb, caller=caller_of(request, who), token_id=token_id)
    return RedirectResponse(_local(back) if back else "/account?done=revoked", status_code=303)


# -- invitations -----------------------------------------------------------------


@router.get("/invite/{secret}", response_class=HTMLResponse)
def invite_form(request: Request, kb: KbDep, lang: LangDep, secret: str) -> HTMLResponse:
    """Choose one's own password through the link a PMO admin handed over."""
    try:
        user = app_accounts.invited(kb, secret=secret)
    except NotFound:
        return render(request, "invite.html", lang, status_code=404, invited=None, secret="", error=None)
    return render(request, "invite.html", lang, invited=user, secret=secret, error=None)


@router.post("/invite/{secret}", response_class=HTMLResponse, dependencies=[CsrfDep])
def invite_accept(
    request: Request,
    kb: KbDep,
    lang: LangDep,
    secret: str,
    new: Annotated[str, Form(max_length=1000)] = "",
    again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        user = app_accounts.invited(kb, secret=secret)
    except NotFound:
        return render(request, "invite.html", lang, status_code=404, invited=None, secret="", error=None)
    if new != again:
        return render(
            request, "invite.html", lang, status_code=422, invited=user, secret=secret, error="password_mismatch"
        )
    hours = kb.settings.session_hours
    try:
        user, session = app_accounts.accept_invitation(
            kb,
            caller=caller_of(request, principal_of(request)),
            secret=secret,
            password=new,
            hours=hours,
            replacing=request.cookies.get(SESSION_COOKIE),
        )
    except InvalidInput as exc:
        return render(
            request,
            "invite.html",
            lang,
            status_code=422,
            invited=user,
            secret=secret,
            error="password_bad",
            error_text=exc.message,
        )
    return _signed_in(request, RedirectResponse("/", status_code=303), session, user, hours)


# -- the audit log -----------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    kb: KbDep,
    who: Annotated[Principal, Depends(requires(Role.pmo_admin))],
    lang: LangDep,
    actor: str = "",
    action: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The audit log, newest first, 100 a page, filtered by actor or action."""
    events = app_accounts.audit_log(
        kb, caller=caller_of(request, who), limit=101, offset=(page - 1) * 100, actor=actor, action=action
    )
    return render(
        request, "audit.html", lang, events=events[:100], more=len(events) > 100, page=page, actor=actor, action=action
    )
