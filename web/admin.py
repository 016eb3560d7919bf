"""Administration pages for PMO admins: users, groups, every API token.

Thin over ``app.accounts``: each form posts to one route that calls one use
case (which checks the role, writes and audits in one transaction) and then
redirects, except when the answer holds a secret (a one-time password, an
invitation link): that page is the post's own response, shown once, never a
redirect target a browser could reload or a history entry could replay.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import accounts as app_accounts
from kb.errors import KbError
from kb.identity.access import Principal
from kb.record.models import Role
from web.deps import CsrfDep, KbDep, LangDep, caller_of, requires
from web.pages import render
from web.schemas import RowId

router = APIRouter(include_in_schema=False)
AdminDep = Annotated[Principal, Depends(requires(Role.pmo_admin))]
CREDENTIALS = ("one_time_password", "invitation")


def _groups_of(text: str, ticked: list[str]) -> list[str]:
    """Groups ticked in the form plus new ones typed comma-separated (、 and , both)."""
    typed = [g.strip() for g in text.replace("、", ",").split(",")]
    return sorted({g for g in [*ticked, *typed] if g})


def _issued(request: Request, lang: str, issued: app_accounts.Issued, *, new: bool) -> HTMLResponse:
    link = str(request.base_url).rstrip("/") + f"/invite/{issued.invitation}" if issued.invitation else None
    return render(request, "issued.html", lang, status_code=201, issued=issued, link=link, new=new)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep) -> HTMLResponse:
    """Every account with its role, groups and state, and the form to add one."""
    caller = caller_of(request, who)
    return render(
        request,
        "users.html",
        lang,
        users=app_accounts.users(kb, caller=caller),
        groups=[g.group.name for g in app_accounts.groups(kb, caller=caller)],
        roles=list(Role),
        notice=request.query_params.get("done", ""),
        error=None,
        form={},
    )


@router.post("/users", response_class=HTMLResponse, dependencies=[CsrfDep])
def users_create(
    request: Request,
    kb: KbDep,
    who: AdminDep,
    lang: LangDep,
    login: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[Role, Form()] = Role.reader,
    groups: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults per request
    new_groups: Annotated[str, Form(max_length=2000)] = "",
    credential: Annotated[str, Form()] = "one_time_password",
) -> HTMLResponse:
    """Add an account; the response shows its one-time password or invitation link, once."""
    caller = caller_of(request, who)
    try:
        issued = app_accounts.create_user(
            kb,
            caller=caller,
            login=login,
            role=role,
            groups=_groups_of(new_groups, groups),
            display_name=display_name,
            credential="invitation" if credential == "invitation" else "one_time_password",
        )
    except KbError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        form = {"login": login, "display_name": display_name, "role": role.value, "groups": groups}
        return render(
            request,
            "users.html",
            lang,
            status_code=exc.status,
            users=app_accounts.users(kb, caller=caller),
            groups=[g.group.name for g in app_accounts.groups(kb, caller=caller)],
            roles=list(Role),
            notice="",
            error=exc.message,
            form=form,
        )
    return _issued(request, lang, issued, new=True)


@router.get("/users/{login}", response_class=HTMLResponse)
def user_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep, login: str) -> HTMLResponse:
    """One account: role, groups, display name, enable/disable, a new password or link, its tokens."""
    caller = caller_of(request, who)
    account = app_accounts.user(kb, caller=caller, login=login)
    return render(
        request,
        "user_edit.html",
        lang,
        account=account,
        groups=[g.group.name for g in app_accounts.groups(kb, caller=caller)],
        roles=list(Role),
        tokens=[(t, o) for t, o in app_accounts.tokens(kb, caller=caller, everyone=True) if o == login],
        notice=request.query_params.get("done", ""),
    )


@router.post("/users/{login}", dependencies=[CsrfDep])
def user_update(
    request: Request,
    kb: KbDep,
    who: AdminDep,
    login: str,
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[Role, Form()] = Role.reader,
    groups: Annotated[list[str], Form()] = [],  # noqa: B006
    new_groups: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    app_accounts.update_user(
        kb,
        caller=caller_of(request, who),
        login=login,
        role=role,
        groups=_groups_of(new_groups, groups),
        display_name=display_name,
    )
    return RedirectResponse(f"/users/{login}?done=saved", status_code=303)


@router.post("/users/{login}/active", dependencies=[CsrfDep])
def user_active(
    request: Request, kb: KbDep, who: AdminDep, login: str, active: Annotated[str, Form()] = "no"
) -> Response:
    """Disable (sessions end and tokens are revoked at once) or enable an account."""
    on = active == "yes"
    app_accounts.update_user(kb, caller=caller_of(request, who), login=login, active=on)
    return RedirectResponse(f"/users/{login}?done={'enabled' if on else 'disabled'}", status_code=303)


@router.post("/users/{login}/reset", response_class=HTMLResponse, dependencies=[CsrfDep])
def user_reset(
    request: Request,
    kb: KbDep,
    who: AdminDep,
    lang: LangDep,
    login: str,
    credential: Annotated[str, Form()] = "one_time_password",
) -> HTMLResponse:
    """A new one-time password or invitation link for a forgotten or leaked password, shown once."""
    issued = app_accounts.reset_password(
        kb,
        caller=caller_of(request, who),
        login=login,
        credential="invitation" if credential == "invitation" else "one_time_password",
    )
    return _issued(request, lang, issued, new=False)


@router.get("/groups", response_class=HTMLResponse)
def groups_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep) -> HTMLResponse:
    """Groups with their members: a document restricted to a group is seen by its members and PMO admins."""
    return render(
        request,
        "groups.html",
        lang,
        groups=app_accounts.groups(kb, caller=caller_of(request, who)),
        notice=request.query_params.get("done", ""),
    )


@router.post("/groups", dependencies=[CsrfDep])
def groups_save(
    request: Request,
    kb: KbDep,
    who: AdminDep,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    app_accounts.save_group(kb, caller=caller_of(request, who), name=name, description=description)
    return RedirectResponse("/groups?done=saved", status_code=303)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep) -> HTMLResponse:
    """Every API token of every account (never a secret), to revoke what should not work any more."""
    return render(
        request,
        "tokens.html",
        lang,
        tokens=app_accounts.tokens(kb, caller=caller_of(request, who), everyone=True),
        notice=request.query_params.get("done", ""),
    )


@router.post("/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def tokens_revoke(request: Request, kb: KbDep, who: AdminDep, token_id: RowId) -> Response:
    app_accounts.revoke_token(kb, caller=caller_of(request, who), token_id=token_id)
    return RedirectResponse("/tokens?done=revoked", status_code=303)
