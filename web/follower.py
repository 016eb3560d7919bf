"""Keeps a running app's indexes in step with changes other processes write to the store.

Writes made through the app catch up at once (the request waits for its own
change to be indexed). Writes made elsewhere (``kb ingest`` on the same data
dir, another replica on the same PostgreSQL) are picked up by polling the
change log every ``interval`` seconds; a generation is saved at most every
``save_every`` seconds, so a restart has little to catch up.
"""

from __future__ import annotations

import logging
import threading
import time

from app import maintenance
from kb.engine import KnowledgeBase

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, kb: KnowledgeBase, *, interval: float = 2.0, save_every: float = 60.0) -> None:
        self.kb = kb
        self.interval = interval
        self.save_every = save_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-follower", daemon=True)
        self._dirty = False
        self._saved_at = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._dirty:
            maintenance.save_indexes(self.kb)

    def changed(self) -> None:
        """Note that the indexes changed in memory and need saving."""
        self._dirty = True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if maintenance.follow(self.kb):
                    self._dirty = True
                if self._dirty and time.monotonic() - self._saved_at >= self.save_every:
                    maintenance.save_indexes(self.kb)
                    self._dirty, self._saved_at = False, time.monotonic()
            except Exception:  # a failed poll must not kill the thread; the next one retries
                log.exception("following the change log failed")
