"""Accounts as use cases: logging in and out, users, groups, API tokens, and each person's own account.

Every change checks who may make it, then writes its rows and its audit row in
one transaction (``kb.store.transaction()``: the accounts and the audit log
write through ``Database`` objects over the store's engine, so they join it).
Logging in is the exception on purpose: a failed attempt must leave its audit
row (the lockout counts them) although the attempt raises.

A secret (a one-time password, an invitation link, a token) is returned once,
in the value the use case hands back; only its hash is kept, so no later call
can show it again.

``kb`` is anything with ``store``, ``accounts`` and ``audit`` (``Directory``),
in practice the ``KnowledgeBase``: its search core loads on first use, so
``kb user …`` never pays for the embedder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from app.caller import Caller
from kb.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from kb.identity.access import require
from kb.identity.accounts import Accounts, one_time_password
from kb.identity.audit import AuditLog
from kb.record.models import ApiToken, AuditEvent, Group, Role, User
from kb.record.store import SqlStore

Credential = Literal["one_time_password", "invitation", "password", "none"]


class Directory(Protocol):
    """What the account use cases need of a knowledge base."""

    @property
    def store(self) -> SqlStore: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def audit(self) -> AuditLog: ...


@dataclass(frozen=True)
class Issued:
    """An account just created or reset, with the secret to hand over, shown once.

    ``password``: a one-time password (the account must replace it at its first
    login); ``invitation``: the secret of the link with which the person
    chooses their own (``/invite/<secret>``). At most one is set.
    """

    user: User
    password: str | None = None
    invitation: str | None = None


@dataclass(frozen=True)
class GroupView:
    group: Group
    members: list[str]


# -- logging in and out --------------------------------------------------


def any_users(kb: Directory) -> bool:
    """Whether any account exists yet (the login page explains the first-run password when none does)."""
    return kb.accounts.count() > 0


def log_in(
    kb: Directory, *, caller: Caller, login: str, password: str, hours: float, replacing: str | None = None
) -> tuple[User, str]:
    """Check the password and start a session: (user, the cookie's secret).

    ``replacing``: the session the browser already had; it ends first, so the
    session id always changes at login (no session fixation). Failures and the
    lockout are audited by ``Accounts.login`` whatever happens next.
    """
    if replacing:
        kb.accounts.end_session(replacing)
    return kb.accounts.login(login.strip(), password, address=caller.address, hours=hours)


def log_out(kb: Directory, *, caller: Caller, secret: str | None) -> None:
    """End this browser's session, audited when it was one."""
    if not secret:
        return
    with kb.store.transaction():
        kb.accounts.end_session(secret)
        if caller.principal.via == "session":
            kb.audit.record(caller.principal.label, "logout", caller.principal.login, address=caller.address)


# -- users (PMO admins) ------------------------------------------------------


def users(kb: Directory, *, caller: Caller) -> list[User]:
    require(caller.principal, Role.pmo_admin)
    return kb.accounts.users()


def user(kb: Directory, *, caller: Caller, login: str) -> User:
    require(caller.principal, Role.pmo_admin)
    return kb.accounts.user(login)


def create_user(
    kb: Directory,
    *,
    caller: Caller,
    login: str,
    role: Role,
    groups: list[str],
    display_name: str = "",
    credential: Credential,
    password: str | None = None,
) -> Issued:
    """A new account with a one-time password, an invitation link, a password chosen by the admin, or none.

    ``none`` is for accounts that log in through the trusted proxy or use API
    tokens only.
    """
    require(caller.principal, Role.pmo_admin)
    if credential == "password" and not password:
        raise InvalidInput("give a password, or let the service make a one-time password or an invitation link")
    issued = one_time_password() if credential == "one_time_password" else password
    by = caller.principal.label
    with kb.store.transaction():
        made = kb.accounts.add_user(
            login.strip(),
            role=role,
            password=issued if credential == "password" else None,
            display_name=display_name.strip(),
            groups=groups,
            by=by,
            address=caller.address,
        )
        invitation = None
        if credential == "one_time_password":
            made = kb.accounts.update_user(made.login, password=issued, one_time=True, by=by, address=caller.address)
        elif credential == "invitation":
            invitation = kb.accounts.invite(made.login, by=by, address=caller.address)
    return Issued(
        kb.accounts.user(made.login),
        password=issued if credential == "one_time_password" else None,
        invitation=invitation,
    )


def update_user(
    kb: Directory,
    *,
    caller: Caller,
    login: str,
    role: Role | None = None,
    groups: list[str] | None = None,
    display_name: str | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's role, groups, display name or whether the account works (PMO admins).

    Disabling ends the account's sessions and revokes its tokens at once. The
    service never loses its last active PMO admin: an admin cannot disable or
    demote the only one (they would lock everyone out of the administration).
    """
    require(caller.principal, Role.pmo_admin)
    with kb.store.transaction():
        before = kb.accounts.user(login)
        losing_admin = (
            before.role is Role.pmo_admin
            and before.active
            and (active is False or (role is not None and role is not Role.pmo_admin))
        )
        if losing_admin and _active_admins(kb) <= 1:
            raise Conflict(
                f"{login} is the only active PMO admin: make someone else a PMO admin first, "
                "or nobody could run the administration"
            )
        return kb.accounts.update_user(
            login,
            role=role,
            groups=groups,
            display_name=display_name,
            active=active,
            by=caller.principal.label,
            address=caller.address,
        )


def _active_admins(kb: Directory) -> int:
    return sum(1 for u in kb.accounts.users() if u.active and u.role is Role.pmo_admin)


def reset_password(
    kb: Directory, *, caller: Caller, login: str, credential: Credential, password: str | None = None
) -> Issued:
    """A new way in for ``login``: a one-time password, an invitation link, or a password the admin chose.

    Each ends the account's sessions; the one-time password and the link stop
    the old password working at once.
    """
    require(caller.principal, Role.pmo_admin)
    by = caller.principal.label
    with kb.store.transaction():
        if credential == "invitation":
            secret = kb.accounts.invite(login, by=by, address=caller.address)
            return Issued(kb.accounts.user(login), invitation=secret)
        if credential == "one_time_password":
            issued = one_time_password()
            done = kb.accounts.update_user(login, password=issued, one_time=True, by=by, address=caller.address)
            return Issued(done, password=issued)
        if credential == "password" and password:
            return Issued(kb.accounts.update_user(login, password=password, by=by, address=caller.address))
    raise InvalidInput("choose a one-time password, an invitation link, or give the new password")


# -- groups --------------------------------------------------------------------


def groups(kb: Directory, *, caller: Caller) -> list[GroupView]:
    """Every group with its members' logins (PMO admins): who sees the documents restricted to it."""
    require(caller.principal, Role.pmo_admin)
    everyone = kb.accounts.users()
    return [GroupView(g, [u.login for u in everyone if g.name in u.groups]) for g in kb.accounts.groups()]


def save_group(kb: Directory, *, caller: Caller, name: str, description: str = "") -> Group:
    """Create a group (or change its description), audited; members are set on each user."""
    require(caller.principal, Role.pmo_admin)
    with kb.store.transaction():
        return kb.accounts.save_group(name, description=description, by=caller.principal.label, address=caller.address)


# -- API tokens ----------------------------------------------------------------


def tokens(kb: Directory, *, caller: Caller, everyone: bool = False) -> list[tuple[ApiToken, str]]:
    """(token, owner) of the caller's tokens; ``everyone`` (PMO admins): every account's."""
    if everyone:
        require(caller.principal, Role.pmo_admin)
        return kb.accounts.tokens(None)
    return kb.accounts.tokens(_own(caller))


def create_token(
    kb: Directory, *, caller: Caller, name: str, role_cap: Role | None = None, login: str | None = None
) -> tuple[ApiToken, str]:
    """A token and its secret (shown once): for the caller, or (PMO admins) for ``login``.

    The token can never do more than its owner: ``role_cap`` only lowers.
    """
    owner = login or _own(caller)
    if owner != caller.principal.login:
        require(caller.principal, Role.pmo_admin)
    else:
        require(caller.principal, Role.reader)
    with kb.store.transaction():
        new = kb.accounts.create_token(
            owner, name, role_cap=role_cap, by=caller.principal.label, address=caller.address
        )
    return new.token, new.secret


def revoke_token(kb: Directory, *, caller: Caller, token_id: int) -> ApiToken:
    """Revoke one of the caller's tokens (a PMO admin: anyone's); it stops working at once."""
    require(caller.principal, Role.reader)
    with kb.store.transaction():
        _, owner = kb.accounts.token(token_id)
        if owner != caller.principal.login and not caller.principal.is_admin:
            raise Forbidden("no such token of yours")
        return kb.accounts.revoke_token(token_id, by=caller.principal.label, address=caller.address)


def _own(caller: Caller) -> str:
    if not caller.principal.authenticated or not caller.principal.login:
        raise Unauthorized("log in first: anonymous readers have no account settings or tokens")
    return caller.principal.login


# -- my account ------------------------------------------------------------------


def me(kb: Directory, *, caller: Caller) -> User:
    """The caller's own account."""
    return kb.accounts.user(_own(caller))


def change_password(kb: Directory, *, caller: Caller, current: str, new: str, hours: float) -> tuple[User, str]:
    """Change one's own password, the current one first; every session ends and this browser gets a new one.

    Returns (user, the new session's secret). A wrong current password counts
    as a failed login, under the same lockout.
    """
    login = _own(caller)
    if current == new:
        raise InvalidInput("the new password must differ from the current one")
    kb.accounts.check_current_password(login, current, address=caller.address)
    with kb.store.transaction():
        kb.accounts.update_user(login, password=new, by=caller.principal.label, address=caller.address)
        return kb.accounts.start_session(login, address=caller.address, hours=hours)


def update_profile(
    kb: Directory, *, caller: Caller, display_name: str | None = None, language: str | None = None
) -> User:
    """Change one's own display name and UI language ("" for the browser's)."""
    login = _own(caller)
    with kb.store.transaction():
        return kb.accounts.update_profile(
            login, display_name=display_name, language=language, by=caller.principal.label, address=caller.address
        )


# -- invitations -------------------------------------------------------------------


def invited(kb: Directory, *, secret: str) -> User:
    """The account an invitation link is for (NotFound when wrong, used or expired)."""
    return kb.accounts.invited(secret)


def accept_invitation(
    kb: Directory, *, caller: Caller, secret: str, password: str, hours: float, replacing: str | None = None
) -> tuple[User, str]:
    """Choose one's password through an invitation link (once), and start a session: (user, secret).

    ``replacing``: the session the browser already had (another account's, say
    one still on its one-time password); it ends with the new one's start, as
    at a login, so the browser is never left holding two.
    """
    with kb.store.transaction():
        user_ = kb.accounts.accept_invitation(secret, password, address=caller.address)
        if replacing:
            kb.accounts.end_session(replacing)
        return kb.accounts.start_session(user_.login, address=caller.address, hours=hours)


# -- the audit log -------------------------------------------------------------------


def audit_log(
    kb: Directory,
    *,
    caller: Caller,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit events, newest first (PMO admins)."""
    require(caller.principal, Role.pmo_admin)
    return kb.audit.events(limit=limit, offset=offset, actor=actor or None, action=action or None)
