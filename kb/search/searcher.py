"""Hybrid search: lexical top-k and dense top-k, grouped by document, fused on one calibrated scale.

A request reads as a straight line: filters → allowed chunk ids → the legs
(BM25 over the chunks in the query's language, BM25 across languages through
the dictionary, FAISS) → chunk rankings reduced to document rankings → the
dense leg's document scores, for the lexical hits it missed too → calibrated fusion
(RRF on request) → page → best chunk of each hit as the snippet, the query's words marked →
per-hit explanation (in words: the query words matched, translations, similar
meaning; in numbers: each leg's rank and score, the fused score).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from kb.identity.access import STANDARD_KINDS
from kb.pmo.vocabulary import Vocabulary
from kb.record.models import Chunk
from kb.search.analysis import Written
from kb.search.bodies import TITLED
from kb.search.explain import (
    Match,
    Strength,
    explain_match,
    merged,
    needs_every_term,
    similar_meaning,
    strength_word,
    wanted_terms,
)
from kb.search.facets import FacetFolding, present_values
from kb.search.findings import (
    IDENTICAL,
    RETIRED,
    DuplicateLine,
    Finding,
    close_bodies,
    close_leads,
    current_versions,
    one_hit_per_finding,
    shares_passage,
)
from kb.search.fusion import RRF_K, Calibrated, LegScores, Weights, rrf
from kb.search.indexer import DocInfo, Indexer
from kb.search.language import detect_language
from kb.search.lexical.index import RowMask
from kb.search.location import Location, location_at
from kb.search.snippets import SnippetPart, snippet

Mode = Literal["hybrid", "lexical", "dense"]
Fusion = Literal["calibrated", "rrf"]

# Candidates each leg contributes before fusion. 100 covers the first pages
# with room for documents that rank well on one leg only.
CANDIDATES = 100

# Leg weights (lexical, dense) of RRF, when asked for (the default fusion is ``kb.search.fusion.calibrated_fusion``).
WEIGHTS = (1.0, 0.5)
FUSION: Fusion = "calibrated"
# RRF's weight of the lexical leg across languages, relative to the lexical leg's 1.0.
RRF_TRANSLATED_WEIGHT = 0.3
WEAK_FLOOR = 0.5
"""Once a query has a confident match, matches down to this strength (half the line) are listed with it.

The confidence line decides whether a query is answered at all; below the
best hits, documents half as strong are still worth a look (a second lesson on
the same failure, a relevant FAQ worded differently). Cutting at the line
itself cost 0.02–0.05 nDCG@10 on the NASA sets, cutting at half 0.002–0.005.
"""


@dataclass(frozen=True)
class Filters:
    """Facet filters; an empty tuple means "any". Dates compare with the document's date.

    ``visible_to`` is the caller's visibility (``Principal.visible_to``): None
    sees every document; a tuple of group names sees the unrestricted ones and
    those restricted to one of these groups. It filters inside both legs, like
    the facets, so restricted documents never reach ranking, totals or facet
    counts.
    """

    kinds: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    visible_to: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls,
        *,
        kinds: Sequence[str] | None = None,
        projects: Sequence[str] | None = None,
        phases: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        visible_to: tuple[str, ...] | None = None,
    ) -> Filters:
        """Filters from optional lists, as query strings and command lines deliver them."""
        return cls(
            tuple(kinds or ()),
            tuple(projects or ()),
            tuple(phases or ()),
            tuple(tags or ()),
            tuple(languages or ()),
            tuple(statuses or ()),
            date_from,
            date_to,
            visible_to,
        )

    @property
    def active(self) -> bool:
        return any(
            (
                self.kinds,
                self.projects,
                self.phases,
                self.tags,
                self.languages,
                self.statuses,
                self.date_from,
                self.date_to,
                self.visible_to is not None,
            )
        )

    def sees(self, doc: DocInfo) -> bool:
        """True when the caller may see ``doc`` (the visibility filter alone)."""
        return self.visible_to is None or not doc.groups or not set(doc.groups).isdisjoint(self.visible_to)

    def accepts(self, doc: DocInfo) -> bool:
        """True when ``doc`` passes every filter (tags: it has at least one of them)."""
        if self.kinds and doc.kind not in self.kinds:
            return False
        if self.projects and doc.project not in self.projects:
            return False
        if self.phases and doc.phase not in self.phases:
            return False
        if self.tags and not set(self.tags) & set(doc.tags):
            return False
        if self.languages and doc.language not in self.languages:
            return False
        if self.statuses and doc.status not in self.statuses:
            return False
        if not self.sees(doc):
            return False
        if self.date_from and (doc.date is None or doc.date < self.date_from.isoformat()):
            return False
        return not (self.date_to and (doc.date is None or doc.date > self.date_to.isoformat()))


@dataclass
class Explanation:
    """Why a document ranked where it did: in words for everyone, in numbers for admins.

    Ranks are 1-based; ``None`` means the leg did not find it. The words
    (``kb.search.explain``): the query's words the document holds as the query
    writes them, the translations that matched across languages, and
    whether it is close in meaning; never an index term (a stem, a bigram).
    """

    lexical_rank: int | None
    lexical_score: float | None
    dense_rank: int | None
    dense_score: float | None
    fused_score: float
    strength: float = 0.0
    """Match strength on the calibrated scale (``kb.search.fusion.LegScores.strength``): 1.0 is the confidence line."""
    matched_words: list[str] = field(default_factory=list)
    via_translation: list[tuple[str, str]] = field(default_factory=list)
    """(query word, document word) pairs matched across languages: (要求, requirements)."""
    similar_meaning: bool = False

    @property
    def match(self) -> Strength:
        """The strength in a word: strong, good (confident) or weak (``kb.search.explain.strength_word``)."""
        return strength_word(self.strength)


@dataclass
class Hit:
    document: DocInfo
    score: float
    chunk_id: int
    heading: str
    snippet: list[SnippetPart]
    explanation: Explanation
    parent: DocInfo | None = None
    """The retrospective a lesson was split from (when the caller may see it): "from: …"."""
    similar: list[DocInfo] = field(default_factory=list)
    """Near-duplicates folded into this hit, best first (see ``kb.search.findings``): "2 similar"."""
    location: Location | None = None
    """The sheet or slide of an office file the snippet is from (``kb.search.location``): "slide 7"."""


FACETS = ("kind", "project", "phase", "tags", "language", "status")


@dataclass
class SearchResult:
    query: str
    mode: Mode
    hits: list[Hit]
    total: int  # findings among the confident matches (after filters); with ``weak`` among every match found
    took_ms: float
    filters: Filters = field(default_factory=Filters)
    # facet → value → findings among all results (not just this page; a folded hit counts once), most frequent first
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # seconds spent per leg ("lexical", "dense": query embedding and vector search)
    timings: dict[str, float] = field(default_factory=dict)
    weak: int = 0
    """Matches below the confidence line that ``total`` leaves out (shown when the search asks for weak ones).
    With no confident match, the findings the weak view lists (a folded hit once); else the documents left out."""


@dataclass
class _Leg:
    """One leg's result reduced to documents: rank order, and each document's best chunk and score.

    ``best`` may also hold documents outside ``order``: the dense leg's scores of
    lexical hits its own top k missed (see ``Searcher.legs``). They have a score
    but no rank.
    """

    order: list[str] = field(default_factory=list)
    best: dict[str, tuple[int, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, hits: Sequence[tuple[int, float]], chunk_doc: dict[int, str]) -> _Leg:
        leg = cls()
        for chunk_id, score in hits:
            doc_id = chunk_doc.get(chunk_id)
            if doc_id is not None and doc_id not in leg.best:
                leg.best[doc_id] = (chunk_id, score)
                leg.order.append(doc_id)
        return leg

    def ranked(self) -> list[tuple[str, float]]:
        """(document, best chunk score) of the ranked documents, best first."""
        return [(doc_id, self.best[doc_id][1]) for doc_id in self.order]

    def unranked(self) -> list[tuple[str, float]]:
        """(document, best chunk score) of the documents scored outside the ranking."""
        ranked = set(self.order)
        return [(d, score) for d, (_, score) in self.best.items() if d not in ranked]

    def scored(self) -> list[tuple[str, float]]:
        """(document, best chunk score) of every scored document: the ranked ones first."""
        return self.ranked() + self.unranked()

    def rank(self, doc_id: str) -> int | None:
        return self.order.index(doc_id) + 1 if doc_id in self.order else None


@dataclass
class Legs:
    """What each leg found for one query, and the documents as indexed when it ran."""

    lexical: _Leg
    dense: _Leg
    docs: Mapping[str, DocInfo]
    translated: _Leg = field(default_factory=_Leg)
    """The lexical leg across languages; empty in dense mode and when the index does not translate."""
    ceilings: tuple[float, float] = (1.0, 1.0)
    """The query's BM25 ceilings (same language, across languages): dividing by them gives coverage."""
    words: int = 0
    """The query's distinct words (``kb.search.fusion.Weights``: a long query leans on its words)."""
    language: str = ""
    """The query's language."""
    read: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None = None
    """Chunk ids and the vectors the dense leg read back for them (``Searcher._document_scores``), for folding."""


class Searcher:
    """Runs queries against an ``Indexer``'s indexes and the store's chunks."""

    def __init__(
        self,
        indexer: Indexer,
        *,
        candidates: int = CANDIDATES,
        rrf_k: int = RRF_K,
        weights: tuple[float, float] = WEIGHTS,
        fusion: Fusion = FUSION,
        min_dense_score: float = 0.0,
        confident_cosine: float | None = None,
        translate: bool = True,
        vocabulary: Vocabulary | None = None,
        duplicates: DuplicateLine = IDENTICAL,
    ) -> None:
        self.indexer = indexer
        self.duplicates = duplicates
        # projects, phases and tags counted and filtered by key (kb.search.facets); the built-in vocabulary by default
        self.folding = FacetFolding(vocabulary or Vocabulary.load(None))
        self._present: tuple[tuple[int, int], dict[str, frozenset[str]]] = ((0, -1), {})
        self.translate = translate
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.weights = weights
        self.fusion = fusion
        self.min_dense_score = min_dense_score
        # the cosine calibration (see kb.search.fusion.LegScores.dense): 0 at the floor, 1 at the embedder's
        # confidence line; a model without one gets 1.0, so meaning alone is never confident with it
        self.confident_cosine = confident_cosine if confident_cosine is not None else 1.0
        self._allowed_cache: OrderedDict[tuple[Filters, int, int], npt.NDArray[np.int64]] = OrderedDict()
        self._rows_cache: OrderedDict[tuple[Filters, int], tuple[npt.NDArray[np.int64], RowMask]] = OrderedDict()
        # called with every result (the web app records its leg timings as metrics)
        self.on_search: Callable[[SearchResult], None] | None = None
        self._restricted: tuple[int, int, bool] = (0, -1, False)  # indexer id, version, any restricted
        self._versions: tuple[tuple[int, int], dict[str, str]] = ((0, -1), {})  # see _current_versions

    def effective(self, filters: Filters) -> Filters:
        """``filters`` without a visibility filter that cannot exclude anything (no restricted documents).

        Keeps the common case (nothing restricted) on the unfiltered fast path;
        whether any restricted document exists is cached per index state.
        """
        if filters.visible_to is None:
            return filters
        view = self.indexer.snapshot()
        key = (id(self.indexer), view.version)
        if self._restricted[:2] != key:
            self._restricted = (*key, any(d.groups for d in view.docs.values()))
        return filters if self._restricted[2] else replace(filters, visible_to=None)

    def widened(self, filters: Filters) -> Filters:
        """``filters`` with each project, phase and tag widened to every spelling of it in the store.

        The store's spellings are collected once per index state (a walk over
        every document, like ``effective``), and only for a search that filters
        on one of these facets.
        """
        if not (filters.projects or filters.phases or filters.tags):
            return filters
        view = self.indexer.snapshot()
        key = (id(self.indexer), view.version)
        if self._present[0] != key:
            self._present = (key, present_values(list(view.docs.values())))
        return self.folding.expand(filters, self._present[1])

    def _allowed(self, filters: Filters) -> npt.NDArray[np.int64]:
        """Chunk ids passing ``filters``, cached per index state: a facet click repeats the same filter.

        Computing it walks every document (about 10 ms at 50k documents); the
        key includes the indexer's identity and change sequence, so any change
        to the indexes makes a fresh entry.
        """
        key = (filters, id(self.indexer), self.indexer.version)
        cached = self._allowed_cache.get(key)
        if cached is None:
            cached = self.indexer.allowed_chunks(filters.accepts)
            self._allowed_cache[key] = cached
            while len(self._allowed_cache) > 64:
                self._allowed_cache.popitem(last=False)
        return cached

    def _allowed_rows(self, filters: Filters, allowed: npt.NDArray[np.int64]) -> RowMask:
        """The lexical index's rows of ``allowed``, cached like the ids; call it holding the indexer's lock.

        The mask describes the rows as they are (a write adds rows, a
        compaction moves them, and a save compacts without a write, so the
        indexer's version cannot say), so it is keyed on the lexical index's
        row layout, which every such change renews, and made under the lock,
        where the index cannot change. The ids it was made from must be the
        current ones too (``allowed`` is cached per indexer version). A few ms
        at 100k chunks, once per filter.
        """
        lexical = self.indexer.lexical
        key = (filters, lexical.layout)
        cached = self._rows_cache.get(key)
        if cached is None or cached[0] is not allowed:
            cached = (allowed, lexical.rows_of(allowed))
            self._rows_cache[key] = cached
            while len(self._rows_cache) > 16:
                self._rows_cache.popitem(last=False)
        return cached[1]

    def search(
        self,
        query: str,
        *,
        filters: Filters | None = None,
        limit: int = 10,
        offset: int = 0,
        mode: Mode = "hybrid",
        weak: bool = False,
    ) -> SearchResult:
        """The confident matches of ``query``, best first; with ``weak``, every match found.

        A query none of whose matches reaches the confidence line
        (``LegScores.strength`` ≥ 1) answers no hits and ``total`` 0, with the
        number of weak matches in ``SearchResult.weak``: nonsense, or a
        question the store does not answer, finds nothing. Once a query has a
        confident match, matches down to ``WEAK_FLOOR`` are listed with it.
        The line needs both kinds of evidence, so it holds in hybrid mode; the
        single-leg modes (a diagnostic, and "nearest in meaning" for related
        documents) list every match their leg found, each with its strength.

        Every mode lists each finding once (``kb.search.findings``): ``total`` and the
        facets count findings, a folded near-duplicate or retrospective once.
        """
        started = time.perf_counter()
        asked = self.effective(filters or Filters())
        filters = self.widened(asked)  # the result keeps the spellings asked for: the page marks them selected
        query = query.strip()
        if not query:
            return SearchResult(query, mode, [], 0, 0.0, asked)
        timings: dict[str, float] = {}
        legs = self.legs(query, filters, max(self.candidates, offset + limit), mode, timings)
        scores = self._calibrated(mode, legs)
        ranked = self._fuse(mode, legs, scores)
        found = ranked if weak or mode != "hybrid" else self._confident(ranked, scores)
        findings = self._findings(found, legs)
        page = findings[offset : offset + limit]
        docs = legs.docs
        hits = self._hits(query, page, legs, scores, filters)
        facets = self.folding.counts([docs[f.doc_id] for f in findings if f.doc_id in docs], FACETS)
        weak_count = len(ranked) - len(found)
        if weak_count and not found:  # "no confident match, N weak ones": N is what the weak view will list
            weak_count = len(self._findings(ranked, legs))
        took = time.perf_counter() - started
        timings["total"] = took
        result = SearchResult(query, mode, hits, len(findings), took * 1000, asked, facets, timings, weak_count)
        if self.on_search is not None:
            self.on_search(result)
        return result

    def confident_documents(self, query: str, *, filters: Filters | None = None) -> dict[str, float]:
        """Every document at or over the confidence line for ``query`` (``LegScores.strength`` ≥ 1), with it.

        What a saved-search subscription is told about (``kb.notify.matching``):
        the same legs and calibration as ``search``, per document, without the
        page, snippets or folding a reader's result list needs. A weak match
        listed under a confident one is not "a new match" worth a message.
        """
        query = query.strip()
        if not query:
            return {}
        filters = self.widened(self.effective(filters or Filters()))
        legs = self.legs(query, filters, self.candidates, "hybrid")
        scores = self._calibrated("hybrid", legs)
        return {d: s.strength for d, s in scores.items() if s.strength >= 1.0 and d in legs.docs}

    def legs(
        self,
        query: str,
        filters: Filters,
        depth: int,
        mode: Mode = "hybrid",
        timings: dict[str, float] | None = None,
    ) -> Legs:
        """Each leg's top ``depth`` chunks as documents, and the documents as indexed now.

        The lexical leg scores the chunks in the query's language, the
        translated leg those in the other language (see ``kb.search.lexical``).

        In hybrid mode the dense leg also scores every lexical hit its own top
        ``depth`` missed (its document score, see ``_document_scores``, from
        chunk vectors read back from the vector index): otherwise a document BM25 ranks first gets 0
        from the dense leg merely for ranking 101st there, and loses to a
        weaker lexical hit the dense leg happened to keep. Measured on every
        query with ``bench/eval_all.py``: on the known-item sets (NASA lessons,
        JSQuAD) hybrid's loss against lexical alone shrank from 0.010–0.019 to
        0.0006–0.0026 nDCG@10; the FAQ sets keep +0.04–0.055 over lexical
        (about 0.01 less than without it). ``timings``, when given, receives
        each leg's seconds.
        """
        indexer = self.indexer
        allowed = self._allowed(filters) if filters.active else None
        lexical = _Leg()
        translated = _Leg()
        dense = _Leg()
        clock = time.perf_counter()
        query_vector = indexer.embedder.embed_query(query) if mode != "lexical" else None
        embedded = time.perf_counter() - clock
        with indexer.lock:
            ceilings, words = (1.0, 1.0), 0
            read = None
            if mode != "dense":
                clock = time.perf_counter()
                keep = self._allowed_rows(filters, allowed) if allowed is not None else None
                lexical = _Leg.of(indexer.lexical.search(query, depth, allowed=keep), indexer.chunk_doc)
                if self.translate:
                    found = indexer.lexical.search_translated(query, depth, allowed=keep)
                    translated = _Leg.of(found, indexer.chunk_doc)
                ceilings = (indexer.lexical.ceiling(query), indexer.lexical.translated_ceiling(query))
                words = indexer.lexical.query_words(query)
                if timings is not None:
                    timings["lexical"] = time.perf_counter() - clock
            clock = time.perf_counter()
            if query_vector is not None:
                nearest = indexer.vectors.search(query_vector, depth, allowed=allowed)
                dense = _Leg.of([(c, s) for c, s in nearest if s >= self.min_dense_score], indexer.chunk_doc)
                missed: list[str] = []
                if mode == "hybrid":
                    missed = list(dict.fromkeys(d for d in lexical.order + translated.order if d not in dense.best))
                read = self._document_scores(dense, missed, query_vector)
                if timings is not None:
                    timings["dense"] = embedded + time.perf_counter() - clock
            docs = indexer.snapshot().docs  # taken under the lock: the documents the legs' chunks belong to
        return Legs(lexical, dense, docs, translated, ceilings, words, detect_language(query), read)

    def _document_scores(
        self, dense: _Leg, missed: list[str], query_vector: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None:
        """Turn ``dense``'s best-chunk scores into document scores, and score ``missed`` (unranked) too.

        For the kinds whose title states what the document says (an FAQ's
        question, a lesson; ``TITLE_CHUNK_KINDS``, the same kinds that get a title
        chunk), a document's dense score is the mean of its lead chunk's cosine
        and the best cosine among its other chunks: the lead chunk says what the
        whole document is about, the best other chunk is the passage that
        matches, and ranking by the best chunk alone let a long document win on
        one stray passage. Templates and procedures open with a name or a
        preamble that says little alone, so they keep their best chunk's cosine
        (blending theirs pushed the demo's vendor evaluation sheet out of a
        vendor-selection kickoff brief), as does any one-chunk document.
        Measured with ``bench/eval_all.py`` (nDCG@10, dense leg
        best chunk → mean): ja_localgovfaq 0.508 → 0.552, en_localgovfaq_xl 0.363
        → 0.415, en_covidqa 0.757 → 0.766; hybrid on the NASA sets went from
        just below lexical alone to above it (title2lesson 0.794 → 0.799, lexical
        0.789; event2lesson 0.844 → 0.853, lexical 0.849). The ranked documents
        are re-ordered by the new score; the chunk kept for the snippet is still
        the best one. Reading the chunk vectors back costs about 1 ms for a few
        hundred chunks (as ``FaissIndex.scores`` does); returns the chunk ids and the vectors read, which
        near-duplicate folding reads again otherwise (``_stored``).
        """
        docs = self.indexer.docs
        # The search already gave each ranked document its best chunk; only a blended score
        # (a multi-chunk FAQ or lesson) needs the others read back, and the missed need all theirs.
        blend = [d for d in dense.order if docs[d].kind in TITLED and len(docs[d].chunk_ids) > 1]
        found = [(d, docs[d]) for d in dict.fromkeys([*blend, *missed]) if d in docs and docs[d].chunk_ids]
        if not found:
            return None
        doc_ids = [d for d, _ in found]
        infos = [info for _, info in found]
        owned = [info.chunk_ids for info in infos]  # each in position order: the lead chunk first
        sizes = np.fromiter(map(len, owned), dtype=np.int64, count=len(owned))
        chunk_ids = np.fromiter(itertools.chain.from_iterable(owned), dtype=np.int64, count=int(sizes.sum()))
        stored = self.indexer.vectors.stored(chunk_ids)
        # FaissIndex.scores' product (einsum: see there), on vectors kept for folding
        sims = np.einsum("ij,j->i", stored, query_vector.astype(np.float32, copy=False).reshape(-1)).astype(np.float64)
        sims[np.isnan(sims)] = -np.inf  # a chunk without a vector (yet)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        best = np.maximum.reduceat(sims, starts)
        others = sims.copy()
        others[starts] = -np.inf
        rest = np.maximum.reduceat(others, starts)  # -inf for a one-chunk document
        lead = sims[starts]
        blended = (lead + rest) / 2
        titled = np.fromiter((info.kind in TITLED for info in infos), dtype=np.bool_, count=len(infos))
        score = np.where(titled & np.isfinite(blended), blended, best)
        owner = np.repeat(np.arange(len(doc_ids)), sizes)
        at_best = np.flatnonzero(sims == best[owner])
        _, first = np.unique(owner[at_best], return_index=True)
        best_chunk = dict(zip(owner[at_best][first].tolist(), chunk_ids[at_best][first].tolist(), strict=True))
        finite = np.isfinite(score).tolist()
        for n, (doc_id, value) in enumerate(zip(doc_ids, score.tolist(), strict=True)):
            if finite[n]:  # else no vector yet: keep what the search found
                dense.best[doc_id] = (best_chunk[n], value)
        dense.order.sort(key=lambda d: -dense.best[d][1])
        return chunk_ids, stored

    def _calibrated(self, mode: Mode, legs: Legs) -> Calibrated:
        """Every found document's legs on the calibrated scale (``kb.search.fusion.LegScores``), in leg order.

        The lexical legs become coverage (BM25 over the query's ceiling), the
        cosine becomes 0 at the dense floor and 1 at the confidence line. A
        document a leg did not find gets 0 coverage from it, or the floor's 0
        for the cosine; dense mode uses the cosine alone, lexical mode the
        words alone.
        """
        lexical, translated, dense = legs.lexical, legs.translated, legs.dense
        floor = self.min_dense_score
        unit = self.confident_cosine - floor if self.confident_cosine > floor else 1.0
        lex_top, tr_top = (c if c > 0 else 1.0 for c in legs.ceilings)
        keys: dict[str, None] = {}  # the order of lexical.scored() + translated.ranked() + dense.scored()
        for part in (lexical.order, lexical.best, translated.order, dense.order, dense.best):
            keys.update(dict.fromkeys(part))
        row = {d: n for n, d in enumerate(keys)}

        def column(leg: _Leg, missing: float) -> npt.NDArray[np.float64]:
            """The leg's score of each document; ``missing`` where the leg did not find it."""
            out = np.full(len(keys), missing, dtype=np.float64)
            out[[row[d] for d in leg.best]] = [score for _, score in leg.best.values()]
            return out

        zeros = np.zeros(len(keys), dtype=np.float64)
        lex = column(lexical, 0.0) / lex_top if mode != "dense" else zeros
        tr = column(translated, 0.0) / tr_top if mode != "dense" else zeros
        den = (column(dense, floor) - floor) / unit if mode != "lexical" else zeros
        weights = Weights.of(words=legs.words, language=legs.language)
        dense_weight = np.full(len(keys), weights.dense)
        if weights.dense != weights.dense_across:
            docs = legs.docs
            other = np.fromiter(
                (d in docs and docs[d].language != legs.language for d in keys), dtype=np.bool_, count=len(keys)
            )
            dense_weight = np.where(other, weights.dense_across, weights.dense)
        return Calibrated(list(keys), lex, tr, den, translated_weight=weights.translated, dense_weight=dense_weight)

    def _fuse(self, mode: Mode, legs: Legs, scores: Calibrated) -> list[tuple[str, float]]:
        if mode == "dense":
            return legs.dense.ranked()
        if self.fusion == "rrf" and mode == "hybrid":
            rankings = [legs.lexical.order, legs.dense.order, legs.translated.order]
            return rrf(rankings, weights=[*self.weights, self.weights[0] * RRF_TRANSLATED_WEIGHT], k=self.rrf_k)
        return scores.ranked()

    @staticmethod
    def _confident(ranked: list[tuple[str, float]], scores: Calibrated) -> list[tuple[str, float]]:
        """``ranked`` cut to the matches worth listing: none without a confident one, else down to WEAK_FLOOR."""
        listed = scores.strength_of([d for d, _ in ranked])
        if not len(listed) or listed.max() < 1.0:
            return []
        return [ranked[n] for n in np.flatnonzero(listed >= WEAK_FLOOR).tolist()]

    def _findings(self, found: list[tuple[str, float]], legs: Legs) -> list[Finding]:
        """``found`` with each finding once (``kb.search.findings.one_hit_per_finding``), its relations read here.

        Costs nothing beyond a dictionary pass unless the list holds a lesson
        with its retrospective (two store reads), a retired standard (a cached
        map), or documents whose lead chunks are near-duplicates (their chunk
        vectors read back from the vector index).
        """
        docs = legs.docs
        listed = [d for d, _ in found if d in docs]
        kinds = {d: docs[d].kind for d in listed}
        parents = {d: p for d in listed if (p := docs[d].parent_id)}
        retired = any(docs[d].status in RETIRED for d in listed)
        return one_hit_per_finding(
            found,
            kinds=kinds,
            parents=parents,
            passages=self._passages({d: p for d, p in parents.items() if p in kinds}, legs),
            current=self._current_versions(docs) if retired else {},
            duplicates=self._near_duplicates(listed, docs, legs.read),
        )

    @staticmethod
    def _best_chunk(doc_id: str, legs: Legs) -> int:
        """The chunk a hit shows: the lexical legs' best (the words are there to mark), else the dense leg's."""
        found = legs.lexical.best.get(doc_id) or legs.translated.best.get(doc_id) or legs.dense.best[doc_id]
        return found[0]

    def _passages(self, parents: dict[str, str], legs: Legs) -> dict[str, frozenset[str]]:
        """Each retrospective of ``parents`` (listed lesson → its listed retrospective) → the lessons whose text
        its best chunk holds (``kb.search.findings.shares_passage``)."""
        children: dict[str, list[str]] = {}
        for lesson, retro in parents.items():
            children.setdefault(retro, []).append(lesson)
        if not children:
            return {}
        store = self.indexer.store
        best = {retro: self._best_chunk(retro, legs) for retro in children}
        passage = {c.id: c.text for c in store.chunks_by_id(list(best.values()))}
        texts: dict[str, list[str]] = {}
        for chunk in store.chunks([lesson for lessons in children.values() for lesson in lessons]):
            texts.setdefault(chunk.document_id, []).append(chunk.text)
        return {
            retro: frozenset(
                lesson
                for lesson in lessons
                if shares_passage(passage.get(best[retro], ""), "\n".join(texts.get(lesson, [])))
            )
            for retro, lessons in children.items()
        }

    def _current_versions(self, docs: Mapping[str, DocInfo]) -> dict[str, str]:
        """``findings.current_versions`` of the standards, cached per index state (a walk over every document)."""
        key = (id(self.indexer), self.indexer.version)
        if self._versions[0] != key:
            self._versions = (key, current_versions(docs.values(), frozenset(str(k) for k in STANDARD_KINDS)))
        return self._versions[1]

    def _near_duplicates(
        self,
        listed: list[str],
        docs: Mapping[str, DocInfo],
        read: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None = None,
    ) -> dict[str, set[str]]:
        """Which listed documents are near-duplicates (``kb.search.findings.DuplicateLine``), from their vectors.

        The lead chunks are compared first; only documents whose lead chunk is
        over the line with another's have their bodies compared, gathered from
        the indexer (``kb.search.bodies``: worked out when each was indexed).
        """
        owned = [d for d in listed if docs[d].chunk_ids]
        if len(owned) < 2:
            return {}
        leads = self._stored(np.fromiter((docs[d].chunk_ids[0] for d in owned), dtype=np.int64, count=len(owned)), read)
        close = close_leads(leads, self.duplicates)
        candidates = np.flatnonzero(close.any(axis=1))
        if not len(candidates):
            return {}
        chosen = [owned[n] for n in candidates.tolist()]
        with self.indexer.lock:  # worked out when each document was indexed (``kb.search.bodies``)
            bodies = self.indexer.bodies.get(chosen)
        pairs = close_bodies(close[np.ix_(candidates, candidates)], bodies, self.duplicates)
        twins: dict[str, set[str]] = {}
        for i, j in zip(*np.nonzero(pairs), strict=True):
            twins.setdefault(chosen[i], set()).add(chosen[j])
        return twins

    def _stored(
        self, chunk_ids: npt.NDArray[np.int64], read: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None
    ) -> npt.NDArray[np.float32]:
        """The stored vectors of ``chunk_ids``: those in ``read`` (this search's, see ``_document_scores``) from there,
        the others from the vector index (most of folding's lead chunks are there: reading them again cost
        ~0.3 ms)."""
        if read is None or not len(read[0]) or not len(chunk_ids):
            with self.indexer.lock:
                return self.indexer.vectors.stored(chunk_ids)
        ids, vectors = read
        order = np.argsort(ids)
        at = order[np.minimum(np.searchsorted(ids, chunk_ids, sorter=order), len(ids) - 1)]
        there = ids[at] == chunk_ids
        out = vectors[at]
        if not there.all():
            with self.indexer.lock:
                out[~there] = self.indexer.vectors.stored(chunk_ids[~there])
        return out

    def _hits(
        self, query: str, page: list[Finding], legs: Legs, scores: Mapping[str, LegScores], filters: Filters
    ) -> list[Hit]:
        lexical, dense, docs = legs.lexical, legs.dense, legs.docs
        chosen = {f.doc_id: self._best_chunk(f.doc_id, legs) for f in page}
        chunks = {c.id: c for c in self.indexer.store.chunks_by_id(list(chosen.values()))}
        bodies = self._title_hit_bodies(chosen, chunks, docs)
        words = self.indexer.lexical.analyzer.written_words(query)
        wanted = wanted_terms(words, self.indexer.lexical.english)
        hits: list[Hit] = []
        for finding in page:
            doc_id, fused_score = finding.doc_id, finding.score
            chunk = bodies.get(doc_id) or chunks.get(chosen[doc_id])
            doc = docs.get(doc_id)
            if chunk is None or doc is None:
                continue  # deleted since the indexes last caught up
            # an English word can only gloss a Japanese word of a hit the dictionary leg found
            match = self._match(words, wanted, chunk.text, doc.title, glossed=doc_id in legs.translated.best)
            # a document of the other language was found lexically through the dictionary
            leg = lexical if doc_id in lexical.best else legs.translated
            lex, den = leg.best.get(doc_id), dense.best.get(doc_id)
            explanation = Explanation(
                lexical_rank=leg.rank(doc_id),
                lexical_score=lex[1] if lex else None,
                dense_rank=dense.rank(doc_id),
                dense_score=den[1] if den else None,
                fused_score=fused_score,
                strength=scores[doc_id].strength,
                matched_words=match.words,
                via_translation=match.translations,
                similar_meaning=similar_meaning(scores[doc_id].dense),
            )
            parent = docs.get(doc.parent_id) if doc.parent_id else None
            hits.append(
                Hit(
                    doc,
                    fused_score,
                    int(chunk.id or 0),
                    chunk.heading,
                    snippet(chunk.text, match.spans),
                    explanation,
                    parent=parent if parent is not None and filters.sees(parent) else None,
                    similar=[docs[d] for d in finding.similar if d in docs],
                    location=location_at(chunk.text, match.spans[0][0] if match.spans else 0, chunk.heading),
                )
            )
        return hits

    def _match(self, words: list[Written], wanted: frozenset[str], text: str, title: str, *, glossed: bool) -> Match:
        """What the snippet's text and the title share with the query's words (the snippet's spans marked).

        Naming the Japanese word an English query word glosses needs every word
        of the text analysed (the slow path); ``glossed`` False says the
        dictionary leg did not find the hit, so no word of it glosses one.
        ``wanted`` is ``wanted_terms(words, …)``, the same for every hit of a search.
        """
        lexical = self.indexer.lexical
        every = {w.text for w in words if w.alone}
        found: list[Match] = []
        for t in (text, title):
            if found and (t == text or every.issubset(found[0].words)):
                break  # the title can add no word (and so no translation ``merged`` would keep): skip analysing it
            analysed = lexical.terms_in(t, None if glossed and needs_every_term(words, t) else wanted)
            found.append(explain_match(words, t, analysed, lexical.english))
        return merged(words, *found)

    def _title_hit_bodies(
        self, chosen: dict[str, int], chunks: dict[int | None, Chunk], docs: Mapping[str, DocInfo]
    ) -> dict[str, Chunk]:
        """The snippet chunk of each hit whose best chunk is its title alone (see ``chunk_document``).

        The hit line shows the title already; the snippet shows what follows
        it (an FAQ's answer, a lesson's body) instead of the title twice.
        """
        titled = [
            d
            for d, c in chosen.items()
            if d in docs and len(docs[d].chunk_ids) > 1 and c in chunks and chunks[c].text == docs[d].title
        ]
        if not titled:
            return {}
        bodies: dict[str, Chunk] = {}
        for chunk in self.indexer.store.chunks(titled):
            if chunk.document_id not in bodies and chunk.text != docs[chunk.document_id].title:
                bodies[chunk.document_id] = chunk
        return bodies
