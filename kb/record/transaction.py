"""One unit of work per use case: every module of the record writes through ``Database``.

A use case (a lifecycle move with its review events, the versions it
supersedes and its audit rows) must commit all its rows or none. The store,
the audit log, accounts and the PMO workflows each write through a
``Database`` over the same engine; inside ``transaction()`` they all join the
one session it opened (the *ambient* session, held in a context variable, so
each thread and each request has its own), and only the outermost block
commits. Outside a transaction each call is its own short transaction, as
before.

Why a context variable rather than a session argument on every method: the
rows of one use case are written by several modules (store, lifecycle, audit)
whose signatures should not change with the transaction they run in; joining
by engine makes any two ``Database`` objects over one engine share the unit
of work.

Objects handed out while a transaction is open are detached from its session
(flushed, then expunged) at the end of each call, as they are outside one: a
caller holding a document read before an update keeps the values it read,
instead of seeing them change under it through the session's identity map.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from kb.record.db import write_session


@dataclass
class _Unit:
    """The transaction open in this context: its engine, its session, how deep the calls inside it are."""

    engine: Engine
    session: Session
    depth: int = 0


_AMBIENT: ContextVar[_Unit | None] = ContextVar("kb_transaction", default=None)


class Database:
    """The engine plus the unit of work: ``transaction()`` for a use case, ``reading()``/``writing()`` per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _ambient(self) -> _Unit | None:
        current = _AMBIENT.get()
        return current if current is not None and current.engine is self.engine else None

    @property
    def in_transaction(self) -> bool:
        return self._ambient() is not None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open the unit of work (or join the one already open): commit at the end of the outermost block,
        roll everything back if it raises.

        On SQLite the write lock is taken at BEGIN (``write_session``): a unit of
        work that reads, decides and writes must not lose its snapshot to another
        writer half-way.
        """
        ambient = self._ambient()
        if ambient is not None:
            yield ambient.session
            return
        session = write_session(self.engine)
        session.expire_on_commit = False  # objects read inside stay readable after the commit
        token = _AMBIENT.set(_Unit(self.engine, session))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            _AMBIENT.reset(token)
            session.close()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for one write: the ambient transaction's (flushed and detached after), else its own."""
        ambient = self._ambient()
        if ambient is None:
            with self.transaction():
                unit = self._ambient()
                assert unit is not None
                with _call(unit) as session:  # the whole method is one call: reads nested in it stay attached
                    yield session
            return
        with _call(ambient) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for one read: inside a transaction its session (so the read sees the writes made so far),
        else a short read-only one."""
        ambient = self._ambient()
        if ambient is None:
            with Session(self.engine) as session:
                yield session
            return
        with _call(ambient) as session:
            yield session


@contextmanager
def _call(unit: _Unit) -> Iterator[Session]:
    """One call inside the unit of work; the outermost call, when it ends, writes what is pending and lets go
    of every object, so callers hold values, not live rows (calls nested in it keep theirs attached)."""
    unit.depth += 1
    try:
        yield unit.session
    finally:
        unit.depth -= 1
    if unit.depth == 0:
        unit.session.flush()
        unit.session.expunge_all()
