"""The JSON API for accounts: who am I, API tokens, users (PMO admins), and the audit log (PMO admins).

A token secret appears in exactly one response, the one that creates it;
listings show its name, prefix and dates. No response ever carries a
password or a password hash (the public schemas have no such fields).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kb.errors import Forbidden
from kb.identity.access import Principal
from kb.identity.accounts import LOGIN_RE, MIN_PASSWORD
from kb.record.models import ApiToken, AuditEvent, Role, User
from web.auth import client_address
from web.deps import KbDep, requires
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
        description="Omit for accounts that log in through the proxy or tokens",
    )


class UserUpdate(Incoming):
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
def list_tokens(kb: KbDep, who: ReaderDep) -> list[TokenPublic]:
    """Your tokens; a PMO admin sees everyone's."""
    rows = kb.accounts.tokens(None if who.is_admin else _own(who))
    return [TokenPublic.of(t, owner) for t, owner in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(request: Request, kb: KbDep, who: ReaderDep, body: TokenIn) -> TokenCreated:
    """A token for yourself, at most your own role. The secret is in this response only."""
    login = _own(who)
    new = kb.accounts.create_token(login, body.name, role_cap=body.role_cap, by=login, address=client_address(request))
    return TokenCreated(**TokenPublic.of(new.token, login).model_dump(), secret=new.secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, kb: KbDep, who: ReaderDep, token_id: RowId) -> Response:
    """Revoke one of your tokens (a PMO admin: anyone's)."""
    owners = {t.id: owner for t, owner in kb.accounts.tokens(None if who.is_admin else _own(who))}
    if token_id not in owners:
        raise Forbidden("no such token of yours")
    kb.accounts.revoke_token(token_id, by=who.label, address=client_address(request))
    return Response(status_code=204)


def _own(who: Principal) -> str:
    if not who.login:
        raise Forbidden("anonymous readers have no tokens: log in")
    return who.login


@router.get("/users", response_model=list[UserPublic])
def list_users(kb: KbDep, who: AdminDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in kb.accounts.users()]


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(request: Request, kb: KbDep, who: AdminDep, body: UserIn) -> UserPublic:
    user = kb.accounts.add_user(
        body.login,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
        groups=body.groups,
        by=who.label,
        address=client_address(request),
    )
    return UserPublic.of(user)


@router.patch("/users/{login}", response_model=UserPublic)
def update_user(request: Request, kb: KbDep, who: AdminDep, login: str, body: UserUpdate) -> UserPublic:
    """Change a user's role, groups, password or active flag (every change is audited)."""
    user = kb.accounts.update_user(
        login,
        role=body.role,
        groups=body.groups,
        active=body.active,
        password=body.password,
        by=who.label,
        address=client_address(request),
    )
    return UserPublic.of(user)


@router.get("/audit", response_model=list[AuditEventPublic])
def audit(
    kb: KbDep,
    who: AdminDep,
    actor: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AuditEventPublic]:
    """Audit events, newest first."""
    return [AuditEventPublic.of(e) for e in kb.audit.events(limit=limit, offset=offset, actor=actor, action=action)]
