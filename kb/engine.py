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


@dataclass
class KnowledgeBase:
    settings: Settings
    store: SqlStore
    embedder: Embedder
    indexer: Indexer
    searcher: Searcher
    hooks: Hooks = field(default_factory=Hooks)
    # the recurring-problem clusters kept fresh in the background by a long-running server; None in the CLI,
    # which computes them when asked
    clusters: ClusterCache | None = None

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> KnowledgeBase:
        """Open the store and load the saved indexes (without catching up: call ``catch_up``)."""
        store = open_store(settings)
        embedder = embedder or make_embedder(settings.embedder)
        indexer = Indexer.open(
            store,
            embedder,
            settings.data_dir / "index",
            ann_threshold=settings.ann_threshold,
            nprobe=settings.ann_nprobe,
        )
        return cls(settings, store, embedder, indexer, make_searcher(indexer, settings, embedder))

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.store.engine)

    @cached_property
    def search_log(self) -> SearchLog:
        """Searches queued for the analytics, written every KB_SEARCH_LOG_SECONDS and on ``close``."""
        return SearchLog(self.store, interval=self.settings.search_log_seconds)

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
