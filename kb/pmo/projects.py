"""The project register: name, aliases, phase, PM, members and planned phase dates.

Kept by PMs (their own projects) and the PMO (any). Entering a phase is what
sends the members that phase's kickoff brief (``app.projects``); this module
only keeps the rows and says which planned phase is due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlmodel import col, select

from kb.errors import Forbidden, InvalidInput, NotFound
from kb.identity.access import Principal
from kb.record.models import utcnow
from kb.record.notifications import Project
from kb.record.transaction import Database


def _names(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def _dates(planned: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for phase, day in planned.items():
        if not phase.strip() or not str(day).strip():
            continue
        try:
            out[phase.strip()] = dt.date.fromisoformat(str(day).strip()).isoformat()
        except ValueError as e:
            raise InvalidInput(f"planned date of {phase!r} is not a date like 2026-04-01: {day!r}") from e
    return out


def save(
    db: Database,
    *,
    name: str,
    by: Principal,
    aliases: Sequence[str] = (),
    description: str = "",
    pm: str = "",
    members: Sequence[str] = (),
    planned: Mapping[str, str] | None = None,
) -> Project:
    """Create or change a project (not its phase: see ``enter``). Its PM or the PMO may change it."""
    name = name.strip()
    if not name:
        raise InvalidInput("name the project")
    with db.writing() as session:
        row = session.exec(select(Project).where(Project.name == name)).first()
        if row is not None:
            check_keeper(by, row)
        else:
            row = Project(name=name[:200], pm=pm.strip() or by.login)
        row.aliases = _names(aliases)
        row.description = description.strip()
        row.pm = pm.strip() or row.pm
        row.members = _names(members)
        row.planned = _dates(planned or {})
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def check_keeper(by: Principal, project: Project) -> None:
    if not (by.is_admin or (by.login and by.login == project.pm)):
        raise Forbidden(f"only the PM of {project.name} ({project.pm}) or the PMO may change it")


def get(db: Database, name: str) -> Project:
    with db.reading() as session:
        row = session.exec(select(Project).where(Project.name == name.strip())).first()
        if row is None:
            raise NotFound(f"no project {name!r} in the register")
        return row


def listed(db: Database) -> list[Project]:
    with db.reading() as session:
        return list(session.exec(select(Project).order_by(col(Project.name))))


def aliases(db: Database) -> dict[str, list[str]]:
    """Project name → its aliases, for matching documents filed under another spelling."""
    return {p.name: p.aliases for p in listed(db)}


def enter(db: Database, name: str, phase: str, *, by: Principal, now: dt.datetime) -> tuple[Project, bool]:
    """Move a project into ``phase``; (project, whether it changed). Entering the phase it is in does nothing."""
    phase = phase.strip()
    if not phase:
        raise InvalidInput("name the phase the project enters")
    with db.writing() as session:
        row = session.exec(select(Project).where(Project.name == name.strip()).with_for_update()).first()
        if row is None:
            raise NotFound(f"no project {name!r} in the register")
        check_keeper(by, row)
        if row.phase == phase:
            return row, False
        row.phase, row.phase_since, row.updated_at = phase, now, now
        session.add(row)
        return row, True


def due_phase(project: Project, today: dt.date) -> str | None:
    """The planned phase whose date has come (the latest one), if the project is not in it yet."""
    passed = [(day, phase) for phase, day in project.planned.items() if dt.date.fromisoformat(day) <= today]
    if not passed:
        return None
    day, phase = max(passed)
    if phase == project.phase:
        return None
    # a phase entered by hand on or after its planned day (or a later one) is not undone by the calendar
    if project.phase_since is not None and dt.date.fromisoformat(day) <= project.phase_since.date():
        return None
    return phase
