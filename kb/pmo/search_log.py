"""Search analytics written off the request path: queued in memory, written in batches by one thread.

Writing a row per search inside the request costs a write transaction (and on
SQLite the one write lock) on every search. Searches are queued here instead,
each with the time it ran, and a background thread writes what has queued every
``interval`` seconds (``KB_SEARCH_LOG_SECONDS``), or sooner once ``batch`` rows
wait. ``close`` writes the rest, so a clean shutdown loses nothing; a crash
loses at most the searches of the last interval. The dashboard flushes before it
reads, so this process's own searches are always counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from kb.record.models import SearchEvent

log = logging.getLogger(__name__)

MAX_PENDING = 100_000
"""Rows kept while the database refuses them (a few tens of MB); beyond that the oldest are dropped, with a log line."""


class SearchSink(Protocol):
    def record_searches(self, events: Sequence[SearchEvent]) -> None: ...


class SearchLog:
    """Queue of searches to log; ``record`` never touches the database."""

    def __init__(self, store: SearchSink, *, interval: float = 1.0, batch: int = 500) -> None:
        self.store = store
        self.interval = interval
        self.batch = batch
        self._pending: list[SearchEvent] = []
        self._lock = threading.Lock()  # guards _pending and the thread's start
        self._writing = threading.Lock()  # one batch written at a time, in order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, query: str, filters: dict[str, Any], results: int) -> None:
        """Queue one search; the row is written by the next flush."""
        event = SearchEvent(query=query, filters=filters, results=results)
        with self._lock:
            self._pending.append(event)
            full = len(self._pending) >= self.batch
            if self._thread is None and not self._stop.is_set():  # started by the first search, not at open
                self._thread = threading.Thread(target=self._run, name="kb-search-log", daemon=True)
                self._thread.start()
        if full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every queued search now, in one transaction; return how many."""
        with self._writing:
            with self._lock:
                events, self._pending = self._pending, []
            if not events:
                return 0
            try:
                self.store.record_searches(events)
            except Exception:
                with self._lock:  # keep them for the next flush, oldest first
                    self._pending[:0] = events
                    dropped = len(self._pending) - MAX_PENDING
                    if dropped > 0:
                        del self._pending[:dropped]
                        log.error("search log: dropped %d searches the database would not take", dropped)
                raise
            return len(events)

    def close(self) -> None:
        """Stop the thread and write what is queued (the shutdown of the app and of every CLI command)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return  # close() writes the rest
            try:
                self.flush()
            except Exception:  # the database may be back at the next interval; the rows are kept
                log.exception("writing search analytics failed")
