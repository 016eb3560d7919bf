"""Accounts: users and groups, password logins, browser sessions and API tokens.

- Passwords are hashed with argon2id (``argon2-cffi``'s ``PasswordHasher``,
  its RFC 9106 defaults): slow on purpose, so a stolen database does not give
  the passwords away. A login for an unknown name still runs one verify, so
  the time taken does not tell which names exist.
- Session ids and token secrets are 256 random bits (``secrets``); only their
  SHA-256 is stored. A fast hash is right for them (unlike passwords) because
  they cannot be guessed, and it keeps the per-request check to one indexed
  lookup.
- Failed logins are rate-limited per account and per address, counted from
  the audit log (``kb.identity.audit``), so every replica sees the same count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, delete, select, update

from kb.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from kb.identity.access import Principal
from kb.identity.audit import AuditLog
from kb.record.models import ApiToken, Group, LoginSession, Role, User, utcnow
from kb.record.transaction import Database

HASHER = PasswordHasher()
# What an unknown login is checked against, so it costs as much time as a known one.
_DUMMY_HASH = HASHER.hash("not a password of anyone")

LOGIN_RE = re.compile(r"^[\w.@+-]{1,200}$")
MIN_PASSWORD = 10
# Failed logins allowed in LOCKOUT before further attempts are refused (429), per account and per address.
MAX_FAILURES_PER_LOGIN = 5
MAX_FAILURES_PER_ADDRESS = 30
LOCKOUT = dt.timedelta(minutes=15)
# A token's last-used time is written at most this often: one write per request would serialise readers.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
TOKEN_PREFIX = "kb_"
# How long an invitation (or password-reset) link works: long enough for a colleague back from leave.
INVITATION_DAYS = 7
LANGUAGES = ("ja", "en")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive (they were stored as UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")


def principal_of(user: User, via: str, cap: Role | None = None) -> Principal:
    """The principal acting for ``user``: its role, lowered to ``cap`` when a token limits it."""
    role = cap if cap is not None and user.role.at_least(cap) else user.role
    return Principal(
        user.login,
        role,
        frozenset(user.groups),
        via,
        display_name=user.display_name or user.login,
        must_change_password=user.must_change_password,
    )


def one_time_password() -> str:
    """A password an admin hands over once (about 96 bits); the account replaces it at its first login."""
    return secrets.token_urlsafe(12)


class Accounts:
    """Users, groups, sessions and tokens in the system of record."""

    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.engine = engine
        self.db = Database(engine)
        self.audit = audit

    # -- users -------------------------------------------------------------

    def add_user(
        self,
        login: str,
        *,
        role: Role,
        password: str | None = None,
        display_name: str = "",
        groups: Sequence[str] = (),
        by: str = "cli",
        address: str | None = None,
    ) -> User:
        if not LOGIN_RE.fullmatch(login):
            raise InvalidInput(f"login {login!r}: use 1–200 letters, digits and . _ @ + -")
        if password is not None:
            check_password(password)
        with self.db.writing() as session:
            if session.exec(select(User).where(User.login == login)).first() is not None:
                raise Conflict(f"a user {login!r} exists already")
            user = User(
                login=login,
                display_name=display_name or login,
                password_hash=HASHER.hash(password) if password is not None else None,
                role=role,
                groups=self._groups(session, groups),
            )
            session.add(user)
            session.flush()
            session.refresh(user)
        self.audit.record(by, "user_add", login, address=address, role=role.value, groups=list(user.groups))
        return user

    def _groups(self, session: Session, names: Sequence[str]) -> list[str]:
        """Clean group names, creating the groups that do not exist yet."""
        clean = sorted({n.strip() for n in names if n.strip()})
        for name in clean:
            if session.get(Group, name) is None:
                session.add(Group(name=name))
        return clean

    def user(self, login: str) -> User:
        with self.db.reading() as session:
            user = session.exec(select(User).where(User.login == login)).first()
            if user is None:
                raise NotFound(f"no user {login!r}")
            return user

    def users(self) -> list[User]:
        with self.db.reading() as session:
            return list(session.exec(select(User).order_by(col(User.login))))

    def display_names(self, names: Iterable[str]) -> dict[str, str]:
        """``{name: display name}`` for each of ``names`` that is a login, compared without case (as
        ``lifecycle.is_owner`` reads a document's free-text ``owner``); other names are left out, so a
        caller shows them as written."""
        wanted = {n for n in names if n and n.strip()}
        if not wanted:
            return {}
        folded = {n.strip().casefold() for n in wanted}
        with self.db.reading() as session:
            rows = session.exec(
                select(User.login, User.display_name).where(
                    or_(col(User.login).in_(sorted(wanted)), func.lower(User.login).in_(sorted(folded)))
                )
            )
            by_login = {login.casefold(): display or login for login, display in rows}
        return {n: by_login[n.strip().casefold()] for n in wanted if n.strip().casefold() in by_login}

    def groups(self) -> list[Group]:
        with self.db.reading() as session:
            return list(session.exec(select(Group).order_by(col(Group.name))))

    def save_group(self, name: str, *, description: str, by: str, address: str | None) -> Group:
        """Create the group ``name`` or change its description."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("give the group a name of 1–200 characters")
        with self.db.writing() as session:
            group = session.get(Group, name)
            action = "group_update" if group is not None else "group_add"
            group = group or Group(name=name)
            group.description = description.strip()[:2000]
            session.add(group)
            session.flush()
            session.refresh(group)
        self.audit.record(by, action, name, address=address, description=group.description)
        return group

    def count(self) -> int:
        return len(self.users())

    def update_user(
        self,
        login: str,
        *,
        role: Role | None = None,
        groups: Sequence[str] | None = None,
        active: bool | None = None,
        password: str | None = None,
        display_name: str | None = None,
        one_time: bool = False,
        by: str = "cli",
        address: str | None = None,
    ) -> User:
        """Change a user's role, groups, display name, active flag or password.

        Disabling ends their sessions and revokes their API tokens at once (a
        leaver's script must not come back to life when the account is enabled
        again); a new password ends their sessions. ``one_time``: the password
        was issued by an admin, so the account must choose its own at login.
        """
        if password is not None:
            check_password(password)
        hashed = HASHER.hash(password) if password is not None else None  # slow: before the write lock
        with self.db.writing() as session:
            user = session.exec(select(User).where(User.login == login)).first()
            if user is None:
                raise NotFound(f"no user {login!r}")
            changes: dict[str, object] = {}
            if role is not None and role is not user.role:
                changes["role"] = f"{user.role.value} → {role.value}"
                user.role = role
            if groups is not None:
                new = self._groups(session, groups)
                if new != user.groups:
                    changes["groups"] = new
                    user.groups = new
            if display_name is not None and display_name.strip() != user.display_name:
                changes["display_name"] = display_name.strip()[:200] or login
                user.display_name = display_name.strip()[:200] or login
            if active is not None and active != user.active:
                changes["active"] = active
                user.active = active
                if not active:
                    revoked = session.exec(
                        update(ApiToken)
                        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
                        .values(revoked_at=utcnow())
                    )
                    changes["tokens_revoked"] = revoked.rowcount
            if hashed is not None:
                user.password_hash = hashed
                user.must_change_password = one_time
                user.invite_hash = user.invite_expires_at = None
                changes["password"] = "one-time" if one_time else "changed"
            session.add(user)
            if user.active is False or password is not None:
                session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
            session.flush()
            session.refresh(user)
        if changes:
            self.audit.record(by, "user_update", login, address=address, **changes)
        return user

    # -- browser sessions --------------------------------------------------

    def login(self, login: str, password: str, *, address: str | None, hours: float) -> tuple[User, str]:
        """Check a password and start a session: (user, the cookie's secret). Every failure is audited."""
        now = utcnow()
        by_login, by_address = self.audit.count_failures(login=login, address=address, since=now - LOCKOUT)
        if by_login >= MAX_FAILURES_PER_LOGIN or by_address >= MAX_FAILURES_PER_ADDRESS:
            self.audit.record(login, "login_refused", login, address=address, reason="too many failures")
            raise TooManyRequests(f"too many failed logins: try again in {int(LOCKOUT.total_seconds() // 60)} minutes")
        # Check the password outside any write transaction: argon2 takes ~150 ms by design,
        # and holding SQLite's write lock that long would stall every other writer.
        with self.db.reading() as session:
            user = session.exec(select(User).where(User.login == login)).first()
        stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
        try:
            ok = HASHER.verify(stored, password) and stored is not _DUMMY_HASH
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or not user.active:
            self.audit.record(login, "login_failed", login, address=address)
            raise Unauthorized("wrong login or password")
        rehashed = HASHER.hash(password) if HASHER.check_needs_rehash(stored) else None
        if rehashed is not None:
            with self.db.writing() as session:
                session.exec(update(User).where(col(User.id) == user.id).values(password_hash=rehashed))
        user, secret = self.start_session(login, address=address, hours=hours)
        self.audit.record(login, "login", login, address=address)
        return user, secret

    def start_session(self, login: str, *, address: str | None, hours: float) -> tuple[User, str]:
        """A new browser session for the active account ``login``: (user, the cookie's secret).

        Used by a password login, by accepting an invitation and after changing
        one's own password (the session id changes whenever the credential does).
        """
        now = utcnow()
        secret = secrets.token_urlsafe(32)
        with self.db.writing() as session:
            user = session.exec(select(User).where(User.login == login)).first()
            if user is None or user.id is None or not user.active:
                raise Unauthorized("wrong login or password")
            session.add(
                LoginSession(
                    id_hash=_digest(secret),
                    user_id=user.id,
                    expires_at=now + dt.timedelta(hours=hours),
                    address=address,
                )
            )
            session.exec(delete(LoginSession).where(col(LoginSession.expires_at) < now))  # tidy expired ones
            session.flush()
            session.refresh(user)
        return user, secret

    def check_current_password(self, login: str, password: str, *, address: str | None) -> None:
        """Raise unless ``password`` is ``login``'s: before changing it, so a borrowed open session cannot.

        A wrong one counts as a failed login (the same lockout applies), so the
        change form cannot be used to guess the password.
        """
        by_login, by_address = self.audit.count_failures(login=login, address=address, since=utcnow() - LOCKOUT)
        if by_login >= MAX_FAILURES_PER_LOGIN or by_address >= MAX_FAILURES_PER_ADDRESS:
            raise TooManyRequests(
                f"too many failed attempts: try again in {int(LOCKOUT.total_seconds() // 60)} minutes"
            )
        user = self.user(login)
        try:
            ok = bool(user.password_hash) and HASHER.verify(user.password_hash or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self.audit.record(login, "login_failed", login, address=address, reason="password change")
            raise InvalidInput("the current password is not right")

    def update_profile(
        self, login: str, *, display_name: str | None = None, language: str | None = None, by: str, address: str | None
    ) -> User:
        """Change what an account shows as its name and the UI language it prefers ("" for the browser's)."""
        if language is not None and language not in (*LANGUAGES, ""):
            raise InvalidInput(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
        with self.db.writing() as session:
            user = session.exec(select(User).where(User.login == login)).first()
            if user is None:
                raise NotFound(f"no user {login!r}")
            changes: dict[str, object] = {}
            if display_name is not None and (display_name.strip()[:200] or login) != user.display_name:
                user.display_name = changes["display_name"] = display_name.strip()[:200] or login
            if language is not None and (language or None) != user.language:
                user.language = language or None
                changes["language"] = language or "browser"
            session.add(user)
            session.flush()
            session.refresh(user)
        if changes:
            self.audit.record(by, "profile_update", login, address=address, **changes)
        return user

    # -- invitations -------------------------------------------------------

    def invite(self, login: str, *, by: str, address: str | None, days: int = INVITATION_DAYS) -> str:
        """A link secret with which ``login`` chooses their own password (shown once; only its hash is kept).

        Also a password reset: the old password stops working and the account's
        sessions end, so a reset after a leak shuts the door at once.
        """
        secret = secrets.token_urlsafe(32)
        with self.db.writing() as session:
            user = session.exec(select(User).where(User.login == login)).first()
            if user is None:
                raise NotFound(f"no user {login!r}")
            user.invite_hash = _digest(secret)
            user.invite_expires_at = utcnow() + dt.timedelta(days=days)
            user.password_hash = None
            user.must_change_password = False
            session.add(user)
            session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
        self.audit.record(by, "user_invite", login, address=address, days=days)
        return secret

    def invited(self, secret: str) -> User:
        """The active account a pending invitation link belongs to, or NotFound (wrong, used or expired)."""
        with self.db.reading() as session:
            user = session.exec(select(User).where(User.invite_hash == _digest(secret))).first()
        expires = user.invite_expires_at if user is not None else None
        if user is None or expires is None or _aware(expires) <= utcnow() or not user.active:
            raise NotFound("this invitation link is not valid any more: ask your PMO admin for a new one")
        return user

    def accept_invitation(self, secret: str, password: str, *, address: str | None) -> User:
        """Set the invited account's own password; the link works once."""
        check_password(password)
        user = self.invited(secret)
        hashed = HASHER.hash(password)
        with self.db.writing() as session:
            done = session.exec(
                update(User)
                .where(col(User.id) == user.id, col(User.invite_hash) == _digest(secret))
                .values(password_hash=hashed, invite_hash=None, invite_expires_at=None, must_change_password=False)
            )
            if done.rowcount != 1:  # another request used the link first
                raise NotFound("this invitation link is not valid any more: ask your PMO admin for a new one")
        self.audit.record(user.login, "invite_accept", user.login, address=address)
        return self.user(user.login)

    def session_user(self, secret: str) -> User | None:
        """The active user of an unexpired session, else None."""
        with self.db.reading() as session:
            row = session.get(LoginSession, _digest(secret))
            if row is None or _aware(row.expires_at) <= utcnow():
                return None
            user = session.get(User, row.user_id)
            return user if user is not None and user.active else None

    def end_session(self, secret: str) -> None:
        with self.db.writing() as session:
            session.exec(delete(LoginSession).where(col(LoginSession.id_hash) == _digest(secret)))

    # -- API tokens --------------------------------------------------------

    def create_token(
        self, login: str, name: str, *, role_cap: Role | None = None, by: str = "cli", address: str | None = None
    ) -> NewToken:
        if not name.strip():
            raise InvalidInput("give the token a name (what or who uses it)")
        user = self.user(login)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        assert user.id is not None
        token = ApiToken(
            name=name.strip()[:200],
            user_id=user.id,
            secret_hash=_digest(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            role_cap=role_cap,
        )
        with self.db.writing() as session:
            session.add(token)
            session.flush()
            session.refresh(token)
        cap = role_cap.value if role_cap else None
        self.audit.record(by, "token_create", f"{login}/{token.name}", address=address, token_id=token.id, cap=cap)
        return NewToken(token, secret)

    def token_user(self, secret: str) -> tuple[User, ApiToken] | None:
        """The active user and unrevoked token a bearer secret belongs to, else None."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        with self.db.reading() as session:
            token = session.exec(select(ApiToken).where(ApiToken.secret_hash == _digest(secret))).first()
            if token is None or token.revoked_at is not None:
                return None
            user = session.get(User, token.user_id)
            if user is None or not user.active:
                return None
        now = utcnow()
        if token.last_used_at is None or now - _aware(token.last_used_at) > LAST_USED_RESOLUTION:
            # A separate, short write (at most once per LAST_USED_RESOLUTION per token), so
            # the common request only reads.
            with self.db.writing() as session:
                session.exec(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
            token.last_used_at = now
        return user, token

    def tokens(self, login: str | None = None) -> list[tuple[ApiToken, str]]:
        """(token, owner's login), oldest first; only ``login``'s when given."""
        with self.db.reading() as session:
            query = select(ApiToken, User.login).join(User, col(User.id) == col(ApiToken.user_id))
            if login is not None:
                query = query.where(User.login == login)
            return [(t, str(owner)) for t, owner in session.exec(query.order_by(col(ApiToken.id))).all()]

    def token(self, token_id: int) -> tuple[ApiToken, str]:
        """(token, owner's login) or NotFound."""
        with self.db.reading() as session:
            row = session.exec(
                select(ApiToken, User.login)
                .join(User, col(User.id) == col(ApiToken.user_id))
                .where(col(ApiToken.id) == token_id)
            ).first()
            if row is None:
                raise NotFound(f"no token {token_id}")
            return row[0], str(row[1])

    def revoke_token(self, token_id: int, *, by: str = "cli", address: str | None = None) -> ApiToken:
        with self.db.writing() as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFound(f"no token {token_id}")
            if token.revoked_at is None:
                token.revoked_at = utcnow()
                session.add(token)
                session.flush()
                session.refresh(token)
        self.audit.record(by, "token_revoke", str(token_id), address=address, name=token.name)
        return token
