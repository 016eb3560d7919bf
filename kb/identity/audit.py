"""The audit log: every write and security event, who made it, when, from where.

Rows are appended, never changed. ``detail`` holds what a reviewer needs to
understand the event (document kind and title, the new role, a file's
status); it never holds a password or a token secret, and the callers in
``kb.identity.accounts`` and ``web.services`` only ever pass names and ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlmodel import col, select

from kb.record.models import AuditEvent
from kb.record.transaction import Database


class AuditLog:
    """Append and read audit events in the system of record."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = Database(engine)

    def record(self, actor: str, action: str, target: str = "", *, address: str | None = None, **detail: Any) -> None:
        with self.db.writing() as session:
            session.add(
                AuditEvent(actor=actor[:200], action=action, target=target[:500], address=address, detail=detail)
            )

    def events(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        actor: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[AuditEvent]:
        """Newest first."""
        with self.db.reading() as session:
            query = select(AuditEvent)
            if actor:
                query = query.where(AuditEvent.actor == actor)
            if action:
                query = query.where(AuditEvent.action == action)
            if since:
                query = query.where(col(AuditEvent.at) >= since)
            query = query.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)
            return list(session.exec(query))

    def count_failures(self, *, login: str, address: str | None, since: dt.datetime) -> tuple[int, int]:
        """Failed logins since ``since``: (for this account, from this address).

        Counted from the log itself, so every replica serving one database sees
        the same count and the lockout survives a restart.
        """
        with self.db.reading() as session:
            base = select(AuditEvent.target, AuditEvent.address).where(
                AuditEvent.action == "login_failed", col(AuditEvent.at) >= since
            )
            base = base.where(or_(col(AuditEvent.target) == login, col(AuditEvent.address) == address))
            sub = base.subquery()
            by_login = session.exec(select(func.count()).select_from(sub).where(sub.c.target == login)).one()
            by_address = 0
            if address:
                by_address = session.exec(select(func.count()).select_from(sub).where(sub.c.address == address)).one()
            return int(by_login), int(by_address)
