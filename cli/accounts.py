"""Account commands: `kb user …`, `kb token …`, `kb audit`.

Whoever can run the CLI on the data dir owns the data, so there is no login
here: each command calls the same ``app.accounts`` use case as the pages and
the API, as a PMO admin named ``cli:<os user>`` in the audit log. The search
core (the embedder) is never loaded: it loads on first use, and no account
command searches.
"""

from __future__ import annotations

import getpass
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from app import accounts as app_accounts
from app.caller import Caller
from cli.common import AsJson, DataDir, domain_errors, err, framed, kb_for, out, print_json
from kb.engine import KnowledgeBase
from kb.errors import InvalidInput
from kb.identity.access import Principal
from kb.record.models import Role

user_app = typer.Typer(help="Manage user accounts (roles: reader, contributor, pmo_admin).", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens (`Authorization: Bearer <token>`).", no_args_is_help=True)
app = typer.Typer()

Groups = Annotated[list[str] | None, typer.Option("--group", "-g", help="A group the user belongs to (repeat).")]


def actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def caller() -> Caller:
    """Whoever runs the CLI on the server: a PMO admin, named by their OS account in the audit log."""
    return Caller.local(Principal(actor(), Role.pmo_admin, via="cli"))


@contextmanager
def accounts_for(data_dir: DataDir) -> Iterator[KnowledgeBase]:
    with kb_for(data_dir) as kb:
        yield kb


def _password(generate: bool, from_env: bool) -> tuple[str | None, bool]:
    """(password, was it generated) from KB_NEW_PASSWORD, a prompt, or a random one."""
    if from_env:
        value = os.environ.get("KB_NEW_PASSWORD")
        if not value:
            raise InvalidInput("--password-from-env: KB_NEW_PASSWORD is not set")
        return value, False
    if generate:
        return secrets.token_urlsafe(12), True
    return typer.prompt("password", hide_input=True, confirmation_prompt=True), False


@user_app.command("add")
@domain_errors
def user_add(
    login: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="reader, contributor or pmo_admin.")] = Role.reader,
    group: Groups = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="Make a random password and print it once.")
    ] = False,
    password_from_env: Annotated[
        bool, typer.Option("--password-from-env", help="Take the password from KB_NEW_PASSWORD (scripts).")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: the account logs in by proxy header or tokens only.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user; prompts for the password unless told otherwise."""
    password, generated = (None, False) if no_password else _password(generate_password, password_from_env)
    with accounts_for(data_dir) as kb:
        issued = app_accounts.create_user(
            kb,
            caller=caller(),
            login=login,
            role=role,
            groups=group or [],
            display_name=name,
            credential="none" if password is None else "password",
            password=password,
        )
    out.print(f"created {escape(issued.user.login)} ({issued.user.role.value})", highlight=False)
    if generated:
        out.print(f"password (shown once): {password}", highlight=False, markup=False)


@user_app.command("list")
@domain_errors
def user_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """List users with their roles, groups and whether they are active."""
    with accounts_for(data_dir) as kb:
        users = app_accounts.users(kb, caller=caller())
    if as_json:
        print_json(
            [
                {"login": u.login, "name": u.display_name, "role": u.role, "groups": u.groups, "active": u.active}
                for u in users
            ]
        )
        return
    table = Table("login", "role", "groups", "active", "name", box=None)
    for u in users:
        table.add_row(u.login, u.role.value, ", ".join(u.groups), "yes" if u.active else "no", u.display_name)
    out.print(table)


@user_app.command("set-role")
@domain_errors
def user_set_role(
    login: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Argument(help="reader, contributor or pmo_admin.")],
    data_dir: DataDir = None,
) -> None:
    """Change a user's role."""
    with accounts_for(data_dir) as kb:
        user = app_accounts.update_user(kb, caller=caller(), login=login, role=role)
    out.print(f"{escape(user.login)} is now {user.role.value}", highlight=False)


@user_app.command("set-groups")
@domain_errors
def user_set_groups(
    login: Annotated[str, typer.Argument(help="Login name.")], group: Groups = None, data_dir: DataDir = None
) -> None:
    """Replace a user's groups (none given: no groups)."""
    with accounts_for(data_dir) as kb:
        user = app_accounts.update_user(kb, caller=caller(), login=login, groups=group or [])
    out.print(f"{escape(user.login)}: groups {', '.join(user.groups) or '(none)'}", highlight=False)


@user_app.command("set-password")
@domain_errors
def user_set_password(
    login: Annotated[str, typer.Argument(help="Login name.")],
    generate_password: Annotated[bool, typer.Option("--generate-password", help="Make one and print it once.")] = False,
    password_from_env: Annotated[bool, typer.Option("--password-from-env", help="From KB_NEW_PASSWORD.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Set a new password (ends the user's browser sessions)."""
    password, generated = _password(generate_password, password_from_env)
    with accounts_for(data_dir) as kb:
        app_accounts.reset_password(kb, caller=caller(), login=login, credential="password", password=password)
    out.print(f"password of {escape(login)} changed", highlight=False)
    if generated:
        out.print(f"password (shown once): {password}", highlight=False, markup=False)


@user_app.command("disable")
@domain_errors
def user_disable(login: Annotated[str, typer.Argument(help="Login name.")], data_dir: DataDir = None) -> None:
    """Disable a user: their sessions end and their tokens stop working at once."""
    with accounts_for(data_dir) as kb:
        app_accounts.update_user(kb, caller=caller(), login=login, active=False)
    out.print(f"{escape(login)} disabled", highlight=False)


@user_app.command("enable")
@domain_errors
def user_enable(login: Annotated[str, typer.Argument(help="Login name.")], data_dir: DataDir = None) -> None:
    """Enable a disabled user again."""
    with accounts_for(data_dir) as kb:
        app_accounts.update_user(kb, caller=caller(), login=login, active=True)
    out.print(f"{escape(login)} enabled", highlight=False)


@token_app.command("create")
@domain_errors
def token_create(
    login: Annotated[str, typer.Argument(help="The user the token acts for.")],
    name: Annotated[str, typer.Option(help="What or who uses the token.")],
    role_cap: Annotated[Role | None, typer.Option("--role-cap", help="At most this role (e.g. reader).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API token and print its secret (once: only its hash is kept)."""
    with accounts_for(data_dir) as kb:
        token, secret = app_accounts.create_token(kb, caller=caller(), name=name, role_cap=role_cap, login=login)
    err.print(f"token {token.id} for {escape(login)}; the secret is shown only now:", highlight=False)
    out.print(secret, highlight=False, markup=False)


@token_app.command("list")
@domain_errors
def token_list(
    login: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """List tokens: id, owner, name, prefix, cap, last used, revoked (never the secret)."""
    with accounts_for(data_dir) as kb:
        rows = [(t, o) for t, o in app_accounts.tokens(kb, caller=caller(), everyone=True) if login in (None, o)]
    records = [
        {
            "id": t.id,
            "user": owner,
            "name": t.name,
            "prefix": t.prefix,
            "role_cap": t.role_cap,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t, owner in rows
    ]
    if as_json:
        print_json(records)
        return
    table = Table("id", "user", "name", "prefix", "cap", "last used", "revoked", box=None)
    for r in records:
        table.add_row(
            *(str(r[k] or "") for k in ("id", "user", "name", "prefix", "role_cap", "last_used_at", "revoked_at"))
        )
    out.print(table)


@token_app.command("revoke")
@domain_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `kb token list`).")], data_dir: DataDir = None
) -> None:
    """Revoke a token: it stops working at once."""
    with accounts_for(data_dir) as kb:
        app_accounts.revoke_token(kb, caller=caller(), token_id=token_id)
    out.print(f"token {token_id} revoked", highlight=False)


@app.command("audit")
@domain_errors
def audit(
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50,
    user: Annotated[str | None, typer.Option("--user", help="Only events by this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (login_failed, upload, delete, …).")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Show the audit log: every write and security event, who, when, from where."""
    with accounts_for(data_dir) as kb:
        events = app_accounts.audit_log(kb, caller=caller(), limit=limit, actor=user, action=action)
    if as_json:
        print_json([e.model_dump(mode="json") for e in events])
        return
    table = Table("when (UTC)", "who", "action", "target", "from", "details", box=None)
    for e in events:
        detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
        table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.target, e.address or "", detail)
    out.print(table)


def first_admin(data_dir: DataDir) -> None:
    """On a store without users, create ``admin`` (PMO admin) with a random password and print how to log in once."""
    with accounts_for(data_dir) as kb:
        if app_accounts.any_users(kb):
            return
        password = secrets.token_urlsafe(12)
        app_accounts.create_user(
            kb,
            caller=caller(),
            login="admin",
            role=Role.pmo_admin,
            groups=[],
            display_name="PMO admin",
            credential="password",
            password=password,
        )
    out.print(
        framed(
            [
                "The first PMO admin account was created (this password is shown only now):",
                "  login:    admin",
                f"  password: {password}",
                "Log in with it in the browser, then change it (`kb user set-password admin`).",
            ]
        ),
        highlight=False,
        markup=False,
    )
