"""The project register and its stage gates as use cases: keep a project, move it into a phase.

Entering a phase writes the phase and one gate notification per member (and
the PM) in the same transaction, with the audit row: a phase is never entered
without its members being told, nor are they told of a phase never entered.
The sender then makes each member's kickoff brief for that phase, as they see
the store, saves it for them and puts it in their inbox (``app.notify``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from app.caller import Caller
from app.effects import audit
from kb.engine import KnowledgeBase
from kb.identity.access import CLI, require
from kb.notify import outbox
from kb.pmo import projects
from kb.record.models import Role, utcnow
from kb.record.notifications import Notification, Project


def listed(kb: KnowledgeBase, *, caller: Caller) -> list[Project]:
    require(caller.principal, Role.reader)
    return projects.listed(kb.store.db)


def get(kb: KnowledgeBase, *, caller: Caller, name: str) -> Project:
    require(caller.principal, Role.reader)
    return projects.get(kb.store.db, name)


def save(
    kb: KnowledgeBase,
    *,
    caller: Caller,
    name: str,
    aliases: Sequence[str] = (),
    description: str = "",
    pm: str = "",
    members: Sequence[str] = (),
    planned: Mapping[str, str] | None = None,
) -> Project:
    """Register or change a project: PMs (contributors) their own, the PMO any."""
    require(caller.principal, Role.contributor)
    with kb.store.transaction():
        row = projects.save(
            kb.store.db,
            name=name,
            by=caller.principal,
            aliases=aliases,
            description=description,
            pm=pm,
            members=members,
            planned=planned,
        )
        audit(kb, caller, "project", row.name, pm=row.pm, members=len(row.members))
    return row


def enter_phase(kb: KnowledgeBase, *, caller: Caller, name: str, phase: str, now: dt.datetime | None = None) -> Project:
    """Move the project into ``phase`` and queue its kickoff brief for every member, in one transaction."""
    require(caller.principal, Role.contributor)
    now = now or utcnow()
    with kb.store.transaction():
        row, changed = projects.enter(kb.store.db, name, phase, by=caller.principal, now=now)
        if changed:
            people = [p for p in dict.fromkeys([*row.members, row.pm]) if p]
            stamp = now.strftime("%Y%m%dT%H%M%S")
            outbox.queue(
                kb.store.db,
                [
                    Notification(
                        key=f"g:{row.id}:{row.phase}:{stamp}:{login}",
                        recipient=login,
                        reason="gate",
                        payload={"project": row.name, "phase": row.phase},
                        channel="inbox",
                        due_at=now,
                    )
                    for login in people
                ],
            )
            audit(kb, caller, "project_phase", row.name, phase=row.phase, notified=len(people))
    return row


def enter_due_phases(kb: KnowledgeBase, *, today: dt.date, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Enter every phase whose planned day has come (the scheduler, as the system); (project, phase) entered."""
    entered: list[tuple[str, str]] = []
    system = Caller.local(CLI)
    for project in projects.listed(kb.store.db):
        phase = projects.due_phase(project, today)
        if phase:
            enter_phase(kb, caller=system, name=project.name, phase=phase, now=now)
            entered.append((project.name, phase))
    return entered
