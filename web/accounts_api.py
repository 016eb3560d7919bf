"""The JSON API for accounts: who am I, API tokens, users (PMO admins), and the audit log (PMO admins).

A secret appears in exactly one response, the one that creates it: a token's
secret, and a one-time password or invitation link issued for a new account;
listings show a token's name, prefix and dates. No response ever carries a
password hash, nor a password someone chose (the public schemas have no such
fields). Every route is one ``app.accounts`` use case.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app import accounts as app_accounts
from kb.identity.access import Principal
from kb.identity.accounts import LOGIN_RE, MIN_PASSWORD
from kb.record.models import ApiToken, AuditEvent, Role, User
from web.deps import KbDep, caller_of, requires
from web.schemas import MAX_OFFSET, Incoming, RowId

router = APIRouter(prefix="/api", tags=["accounts"])
ReaderDep = Annotated[Principal, Depends(requires(Role.reader))]
AdminDep = Annotated[Principal, Depends(requires(Role.pmo_admin))]


class MePublic(BaseModel):
    login: str
    role: Role | None
    groups: list[str]
    via: str


class TokenIn(Incoming):
    name: str = Field(min_length=1, max_length=200, description="What or who uses it")
    role_cap: Role | None = Field(default=None, description="At most this role (e.g. a read-only token)")


class TokenPublic(BaseModel):
    id: int
    name: str
    owner: str
    prefix: str
    role_cap: Role | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, token: ApiToken, owner: str) -> TokenPublic:
        assert token.id is not None
        return cls(id=token.id, owner=owner, **token.model_dump(include=set(cls.model_fields) - {"id", "owner"}))


class TokenCreated(TokenPublic):
    secret: str = Field(description="The bearer secret. Shown only here, once: store it now.")


class UserIn(Incoming):
    login: str = Field(min_length=1, max_length=200, pattern=LOGIN_RE.pattern)
    display_name: str = ""
    role: Role = Role.reader
    groups: list[str] = Field(default_factory=list)
    password: str | None = Field(
        default=None,
        min_length=MIN_PASSWORD,
        description="Omit for accounts that log in through the proxy or tokens, or to have one issued",
    )
    credential: Literal["one_time_password", "invitation", "none"] = Field(
        default="none",
        description="Without a password: issue a one-time password or an invitation link, or none (proxy, tokens)",
    )


class UserUpdate(Incoming):
    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    groups: list[str] | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD)


class UserPublic(BaseModel):
    login: str
    display_name: str
    role: Role
    groups: list[str]
    active: bool
    has_password: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        data = user.model_dump(include={"login", "display_name", "role", "groups", "active", "created_at"})
        return cls(**data, has_password=user.password_hash is not None)


class UserCreated(UserPublic):
    one_time_password: str | None = Field(default=None, description="Shown only here, once; replaced at first login")
    invitation: str | None = Field(default=None, description="The secret of the link /invite/<secret>, shown once")


class AuditEventPublic(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    address: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventPublic:
        return cls.model_validate(event.model_dump())


@router.get("/me", response_model=MePublic)
def me(who: ReaderDep) -> MePublic:
    """The caller as the server sees them: login, effective role, groups, and how they were identified."""
    return MePublic(login=who.login, role=who.role, groups=sorted(who.groups), via=who.via)


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(request: Request, kb: KbDep, who: ReaderDep) -> list[TokenPublic]:
    """Your tokens; a PMO admin sees everyone's."""
    rows = app_accounts.tokens(kb, caller=caller_of(request, who), everyone=who.is_admin)
    return [TokenPublic.of(t, owner) for t, owner in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(request: Request, kb: KbDep, who: ReaderDep, body: TokenIn) -> TokenCreated:
    """A token for yourself, at most your own role. The secret is in this response only."""
    token, secret = app_accounts.create_token(
        kb, caller=caller_of(request, who), name=body.name, role_cap=body.role_cap
    )
    return TokenCreated(**TokenPublic.of(token, who.login).model_dump(), secret=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, kb: KbDep, who: ReaderDep, token_id: RowId) -> Response:
    """Revoke one of your tokens (a PMO admin: anyone's)."""
    app_accounts.revoke_token(kb, caller=caller_of(request, who), token_id=token_id)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserPublic])
def list_users(request: Request, kb: KbDep, who: AdminDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in app_accounts.users(kb, caller=caller_of(request, who))]


@router.post("/users", response_model=UserCreated, status_code=201)
def add_user(request: Request, kb: KbDep, who: AdminDep, body: UserIn) -> UserCreated:
    """Add an account: with ``password``, that one; with ``credential`` ``one_time_password`` or ``invitation``,
    the response carries the one-time password or the invitation link's secret (``/invite/<secret>``), once."""
    credential = "password" if body.password else body.credential
    issued = app_accounts.create_user(
        kb,
        caller=caller_of(request, who),
        login=body.login,
        role=body.role,
        groups=body.groups,
        display_name=body.display_name,
        credential=credential,
        password=body.password,
    )
    return UserCreated(
        **UserPublic.of(issued.user).model_dump(), one_time_password=issued.password, invitation=issued.invitation
    )


@router.patch("/users/{login}", response_model=UserPublic)
def update_user(request: Request, kb: KbDep, who: AdminDep, login: str, body: UserUpdate) -> UserPublic:
    """Change a user's role, groups, display name, password or active flag (every change is audited)."""
    caller = caller_of(request, who)
    user = app_accounts.update_user(
        kb,
        caller=caller,
        login=login,
        role=body.role,
        groups=body.groups,
        display_name=body.display_name,
        active=body.active,
    )
    if body.password is not None:
        user = app_accounts.reset_password(
            kb, caller=caller, login=login, credential="password", password=body.password
        ).user
    return UserPublic.of(user)


@router.get("/audit", response_model=list[AuditEventPublic])
def audit(
    request: Request,
    kb: KbDep,
    who: AdminDep,
    actor: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AuditEventPublic]:
    """Audit events, newest first."""
    events = app_accounts.audit_log(
        kb, caller=caller_of(request, who), actor=actor, action=action, limit=limit, offset=offset
    )
    return [AuditEventPublic.of(e) for e in events]
