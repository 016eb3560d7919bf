"""The composition root of the search core: store, embedder, indexes and searcher for one data dir.

The CLI and the web app build one ``KnowledgeBase`` from ``Settings`` and pass it
around; nothing here is global.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from kb.config import Settings
from kb.identity.accounts import Accounts
from kb.identity.audit import AuditLog
from kb.pmo.analytics import SearchAnalytics
from kb.pmo.clusters import ClusterCache
from kb.pmo.search_log import SearchLog
from kb.pmo.vocabulary import Vocabulary
from kb.record.store import SqlStore, open_store
from kb.search.embedders.base import Embedder, make_embedder
from kb.search.findings import IDENTICAL
from kb.search.indexer import Indexer, rebuild
from kb.search.searcher import Searcher


def dense_floor(settings: Settings, embedder: Embedder) -> float:
    """KB_MIN_DENSE_SCORE, else the embedder's own ``relevance_floor``, else 0 (no floor)."""
    if settings.min_dense_score is not None:
        return settings.min_dense_score
    return float(getattr(embedder, "relevance_floor", 0.0))


def confident_cosine(settings: Settings, embedder: Embedder) -> float | None:
    """KB_CONFIDENT_COSINE, else the embedder's own ``confident_cosine``, else None (meaning alone never is)."""
    if settings.confident_cosine is not None:
        return settings.confident_cosine
    line = getattr(embedder, "confident_cosine", None)
    return float(line) if line is not None else None


def make_searcher(indexer: Indexer, settings: Settings, embedder: Embedder) -> Searcher:
    """The searcher over ``indexer`` with the embedder's calibration (floor, confidence line, near-duplicates)
    and the vocabulary its facets fold by.

    An embedder without a measured ``duplicate_line`` folds only documents with
    the same text (``kb.search.findings.IDENTICAL``).
    """
    return Searcher(
        indexer,
        min_dense_score=dense_floor(settings, embedder),
        confident_cosine=confident_cosine(settings, embedder),
        vocabulary=Vocabulary.load(settings.vocabulary),
        duplicates=getattr(embedder, "duplicate_line", IDENTICAL),
    )


@dataclass
class Hooks:
    """Work the application layer hands on after a commit, registered by whoever serves the knowledge base.

    ``indexed``: called when a write was made searchable (the web app wakes its
    change-log follower so other replicas' views stay fresh); ``written``:
    called with (outcome, documents) for the ``/metrics`` counters.
    """

    indexed: list[Callable[[], None]] = field(default_factory=list)
    written: list[Callable[[str, int], None]] = field(default_factory=list)


class KnowledgeBase:
    """Store, embedder, indexes and searcher for one data dir.

    The search core (embedder, indexes, searcher) is loaded on first use: a
    command that only reads or writes the record (``kb list``, ``kb lifecycle``,
    ``kb ingest --no-index``) never pays for the model (about a second) or the
    index files. ``core_loaded`` says whether it was.
    """

    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        embedder: Embedder | None = None,
        indexer: Indexer | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._embedder = embedder
        self._indexer = indexer
        self._searcher = searcher
        self.hooks = Hooks()
        # the recurring-problem clusters kept fresh in the background by a long-running server; None in the CLI,
        # which computes them when asked
        self.clusters: ClusterCache | None = None

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> KnowledgeBase:
        """Open the store; the saved indexes load on first use (without catching up: call ``catch_up``)."""
        return cls(settings, open_store(settings), embedder)

    @property
    def core_loaded(self) -> bool:
        """Whether the indexes are loaded (a server's always are; a command's only once it searched or indexed)."""
        return self._indexer is not None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedder)
        return self._embedder

    @embedder.setter
    def embedder(self, value: Embedder) -> None:
        self._embedder = value

    @property
    def indexer(self) -> Indexer:
        if self._indexer is None:
            self._indexer = Indexer.open(
                self.store,
                self.embedder,
                self.settings.data_dir / "index",
                ann_threshold=self.settings.ann_threshold,
                nprobe=self.settings.ann_nprobe,
            )
        return self._indexer

    @indexer.setter
    def indexer(self, value: Indexer) -> None:
        self._indexer = value

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = make_searcher(self.indexer, self.settings, self.embedder)
        return self._searcher

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.store.engine)

    @cached_property
    def search_log(self) -> SearchLog:
        """Searches queued for the analytics, written every KB_SEARCH_LOG_SECONDS and on ``close``."""
        return SearchLog(self.analytics, interval=self.settings.search_log_seconds)

    @cached_property
    def analytics(self) -> SearchAnalytics:
        """The search log and feedback, and the figures the PMO reads from them."""
        return SearchAnalytics(self.store)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.store.engine, self.audit)

    def catch_up(self, on_progress: Callable[[int, int], None] | None = None, *, save: bool = True) -> int:
        """Bring the indexes up to the store's change log; save a generation when anything changed."""
        changed = self.indexer.catch_up(on_progress)
        if changed and save:
            self.indexer.save()
        return changed

    def reindex(self, on_progress: Callable[[int, int], None] | None = None) -> None:
        """Rebuild both indexes from the store aside, then swap them in."""
        fresh = rebuild(
            self.store,
            self.embedder,
            self.settings.data_dir / "index",
            on_progress,
            ann_threshold=self.settings.ann_threshold,
            nprobe=self.settings.ann_nprobe,
        )
        self.indexer = fresh
        self.searcher.indexer = fresh
        self.store.prune_vectors(self.embedder.identity, fresh.text_hashes)

    def close(self) -> None:
        if "search_log" in self.__dict__:  # created by the first search; nothing to write otherwise
            self.search_log.close()
        self.store.close()
