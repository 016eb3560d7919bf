"""Search analytics queue: nothing written on record, everything written by a flush or a close, in order."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from kb.pmo.analytics import SearchAnalytics
from kb.pmo.search_log import SearchLog
from kb.record.models import SearchEvent
from kb.record.store import SqlStore


def test_record_writes_nothing_until_a_flush(sqlite_store: SqlStore) -> None:
    log = SearchLog(SearchAnalytics(sqlite_store), interval=3600)
    log.record("ベンダー 遅延", {"kinds": ["lesson"]}, 3)
    log.record("budget freeze", {}, 0)
    assert SearchAnalytics(sqlite_store).report().searches == 0 and log.pending() == 2
    assert log.flush() == 2
    report = SearchAnalytics(sqlite_store).report()
    assert report.searches == 2 and report.zero_result_queries == [("budget freeze", 1)]
    assert log.pending() == 0 and log.flush() == 0
    log.close()


def test_close_writes_what_is_queued_and_stops_the_thread(sqlite_store: SqlStore) -> None:
    log = SearchLog(SearchAnalytics(sqlite_store), interval=3600)
    for n in range(5):
        log.record(f"query {n}", {}, n)
    thread = log._thread
    log.close()
    assert SearchAnalytics(sqlite_store).report().searches == 5
    assert thread is not None and not thread.is_alive()


def test_the_thread_writes_a_full_batch_without_waiting_for_the_interval(sqlite_store: SqlStore) -> None:
    written = threading.Event()

    class Sink:
        def __init__(self) -> None:
            self.events: list[SearchEvent] = []

        def record_searches(self, events: Sequence[SearchEvent]) -> None:
            self.events.extend(events)
            written.set()

    sink = Sink()
    log = SearchLog(sink, interval=3600, batch=3)
    log.record("a", {}, 1)
    log.record("b", {}, 1)
    log.record("c", {}, 1)
    assert written.wait(timeout=30), "the batch was not written by the thread"
    assert [e.query for e in sink.events] == ["a", "b", "c"]
    log.close()


def test_a_failed_write_keeps_the_rows_for_the_next_flush(sqlite_store: SqlStore) -> None:
    class Flaky:
        fail = True

        def record_searches(self, events: Sequence[SearchEvent]) -> None:
            if self.fail:
                raise RuntimeError("database is down")
            SearchAnalytics(sqlite_store).record_searches(events)

    sink = Flaky()
    log = SearchLog(sink, interval=3600)
    log.record("first", {}, 1)
    with pytest.raises(RuntimeError):
        log.flush()
    log.record("second", {}, 0)
    sink.fail = False
    assert log.flush() == 2
    assert SearchAnalytics(sqlite_store).report().searches == 2
    log.close()


def test_each_row_keeps_the_time_its_search_ran(sqlite_store: SqlStore) -> None:
    log = SearchLog(SearchAnalytics(sqlite_store), interval=3600)
    log.record("when", {}, 1)
    queued_at = log._pending[0].at
    log.close()
    from sqlmodel import Session, select

    with Session(sqlite_store.engine) as session:
        (row,) = session.exec(select(SearchEvent)).all()
    assert row.at.replace(tzinfo=None) == queued_at.replace(tzinfo=None)
