"""Recurring problems: near-duplicate lessons across projects (same failure, other words, other language).

Each lesson is represented twice, by what the indexes already hold: its
dense vector (the mean of its chunks' stored vectors, re-normalised: the
multilingual embedder puts a Japanese lesson and its English twin close) and
its analyzer terms (TF-IDF over the lexical analyzer's normalised words, which
catches same-language rewordings the embedder scores lower). Their cosines are
mixed, ``s = DENSE_WEIGHT · dense + (1 − DENSE_WEIGHT) · lexical``, and
scikit-learn's agglomerative clustering with average linkage over ``1 − s``
cuts the tree at ``1 − THRESHOLD``: a cluster's lessons are on average at
least THRESHOLD similar to each other.

The constants were tuned with ``bench/cluster_quality.py`` on a hand-labelled
sample (``bench/data/cluster_labels.json``: the demo's 46 lessons in Japanese
and English, 10 NASA LLIS lessons in 3 groups and 25 NASA singletons), by a
grid over weight 0.5–1.0 and threshold 0.15–0.70, choosing the best pairwise
F1 on the NASA part and checking it on the demo part (and the reverse); see
docs/workflows.md (Recurring problems) for the figures. Average linkage was chosen over single linkage
(chains unrelated lessons through one bridging lesson) and complete linkage
(splits a group as soon as one member is worded far from another).

Clusters are computed per view, over only the lessons that view may see
(``visible_to``, as ``Principal.visible_to`` gives it: None for PMO admins,
else the caller's groups). Computing over every lesson and hiding members
afterwards is not enough: a restricted near-duplicate still pulls public
lessons into or out of a cluster, and shifts the centring and the TF-IDF
weights, so an outsider's clusters would change when one is added. ``view``
then keeps only the members the caller may see (defence in depth), and
labels, counts, projects and dates come from those members alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kb.search.facets import most_written, project_keys
from kb.search.indexer import DocInfo, Indexer
from kb.search.searcher import Filters

DENSE_WEIGHT = 0.5
THRESHOLD = 0.35
CENTRE = True
# The similarity matrix is n² doubles: 8,000 lessons take 512 MB. Beyond that only the newest lessons are
# clustered (a recurring problem is one that is still happening).
MAX_LESSONS = 8000
# Group views kept besides the two everyone shares (all lessons, unrestricted lessons): one per distinct set of
# groups recently asked for, each a full clustering of its own lessons.
MAX_VIEWS = 16

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Clustering:
    """Groups of lesson ids (two or more each), members most central first, as of change ``seq``."""

    groups: tuple[tuple[str, ...], ...]
    seq: int
    took_ms: float = 0.0

    def group_of(self) -> dict[str, int]:
        return {doc_id: n for n, members in enumerate(self.groups) for doc_id in members}


@dataclass
class ProblemCluster:
    """One recurring problem as a caller sees it."""

    key: str
    label: str
    lessons: list[DocInfo]
    projects: list[str]
    first: str | None
    last: str | None
    trend: str  # rising, steady, falling: lessons in the last 365 days against the 365 before
    per_year: list[tuple[str, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.lessons)

    @property
    def recurring(self) -> bool:
        """Seen in two or more projects (near-duplicates inside one project are not a recurrence)."""
        return len(self.projects) >= 2


def similarity(
    dense: Matrix,
    terms: Sequence[Sequence[str]],
    dense_weight: float = DENSE_WEIGHT,
    languages: Sequence[str] | None = None,
) -> Matrix:
    """Pairwise similarity of n lessons: the weighted mean of dense cosine and TF-IDF cosine of their terms.

    Dense vectors are centred on the lessons' mean first: lessons of one
    organisation share a domain direction (every NASA lesson is about
    spacecraft) that makes unrelated ones look alike; removing it raised
    pairwise precision on the labelled sample. Two lessons in different
    ``languages`` share no words, so their similarity is the dense cosine alone.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    centred = dense - dense.mean(axis=0, keepdims=True) if CENTRE and len(dense) > 2 else dense
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = centred / np.where(norms == 0, 1.0, norms)
    dense_sim = unit @ unit.T
    if any(terms):
        tfidf = TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True).fit_transform([list(t) for t in terms])
        lexical_sim = (tfidf @ tfidf.T).toarray()
    else:
        lexical_sim = np.zeros_like(dense_sim)
    sim: Matrix = dense_weight * dense_sim + (1.0 - dense_weight) * lexical_sim
    if languages is not None:
        codes = np.array([hash(lang) for lang in languages])
        sim = np.where(codes[:, None] == codes[None, :], sim, dense_sim)
    np.fill_diagonal(sim, 1.0)
    return np.clip(sim, -1.0, 1.0)


def cluster(sim: Matrix, threshold: float = THRESHOLD) -> list[list[int]]:
    """Indices grouped by average-linkage agglomerative clustering; groups of two or more, most central first."""
    n = len(sim)
    if n < 2:
        return []
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - threshold
    )
    labels = model.fit_predict(1.0 - sim)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(index)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        block = sim[np.ix_(members, members)]
        centrality = block.sum(axis=1)
        out.append([members[i] for i in np.argsort(-centrality, kind="stable")])
    return sorted(out, key=lambda g: (-len(g), g[0]))


ViewKey = tuple[str, ...] | None  # Principal.visible_to: None sees every lesson


def _lessons(docs: Mapping[str, DocInfo], visible_to: ViewKey) -> list[DocInfo]:
    """The lessons a view clusters among ``docs`` (an ``Indexer.snapshot``), by id."""
    sees = Filters(visible_to=visible_to)
    lessons = [d for d in docs.values() if d.kind == "lesson" and d.status != "archived" and sees.accepts(d)]
    if len(lessons) > MAX_LESSONS:
        lessons = sorted(lessons, key=lambda d: d.date or "", reverse=True)[:MAX_LESSONS]
    return sorted(lessons, key=lambda d: d.id)


def lesson_points(indexer: Indexer, visible_to: ViewKey = None) -> tuple[list[str], Matrix, list[list[str]]]:
    """Every indexed lesson ``visible_to`` may see (archived ones left out): ids, mean chunk vectors, analyzer terms."""
    with indexer.lock:  # the vectors read are those of the snapshot's chunks
        lessons = _lessons(indexer.snapshot().docs, visible_to)
        chunk_ids = [c for d in lessons for c in d.chunk_ids]
        stored = indexer.vectors.stored(np.array(chunk_ids, dtype=np.int64)) if chunk_ids else None
    texts: dict[str, list[str]] = {}
    for chunk in indexer.store.chunks([d.id for d in lessons]):
        texts.setdefault(chunk.document_id, []).append(chunk.text)
    ids: list[str] = []
    vectors: list[npt.NDArray[np.float64]] = []
    terms: list[list[str]] = []
    row = 0
    analyzer = indexer.lexical.analyzer
    for doc in lessons:
        block = stored[row : row + len(doc.chunk_ids)] if stored is not None else np.zeros((0, 1))
        row += len(doc.chunk_ids)
        block = block[~np.isnan(block).any(axis=1)] if len(block) else block
        if len(block) == 0:
            continue  # not embedded yet: the next run takes it
        ids.append(doc.id)
        vectors.append(block.mean(axis=0).astype(np.float64))
        text = "\n".join([doc.title, *dict.fromkeys(texts.get(doc.id, []))])
        terms.append(analyzer.tokenize(text))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, 1))
    return ids, matrix, terms


def languages(indexer: Indexer, ids: Sequence[str]) -> list[str]:
    docs = indexer.docs
    return [docs[i].language if i in docs else "" for i in ids]


def compute(
    indexer: Indexer,
    *,
    visible_to: ViewKey = None,
    dense_weight: float = DENSE_WEIGHT,
    threshold: float = THRESHOLD,
) -> Clustering:
    """Cluster the lessons the indexes hold now that ``visible_to`` may see (None: every lesson)."""
    started = time.perf_counter()
    seq = indexer.seq
    ids, vectors, terms = lesson_points(indexer, visible_to)
    sim = similarity(vectors, terms, dense_weight, languages(indexer, ids))
    groups = cluster(sim, threshold) if len(ids) >= 2 else []
    took = (time.perf_counter() - started) * 1000
    return Clustering(tuple(tuple(ids[i] for i in g) for g in groups), seq, took)


def view(
    clustering: Clustering,
    docs: Mapping[str, DocInfo],
    can_see: Callable[[Sequence[str]], bool],
    *,
    today: dt.date | None = None,
) -> list[ProblemCluster]:
    """The clusters as a caller sees them: only visible members, two or more; recurring ones first."""
    today = today or dt.date.today()
    out: list[ProblemCluster] = []
    for members in clustering.groups:
        seen = [docs[m] for m in members if m in docs and can_see(docs[m].groups)]
        if len(seen) < 2:
            continue
        dates = sorted(d.date for d in seen if d.date)
        projects = distinct_projects([d.project for d in seen if d.project])
        years: dict[str, int] = {}
        for d in dates:
            years[d[:4]] = years.get(d[:4], 0) + 1
        out.append(
            ProblemCluster(
                key=hashlib.sha256("\0".join(sorted(members)).encode()).hexdigest()[:12],
                label=seen[0].title,
                lessons=seen,
                projects=projects,
                first=dates[0] if dates else None,
                last=dates[-1] if dates else None,
                trend=_trend(dates, today),
                per_year=sorted(years.items()),
            )
        )
    return sorted(out, key=lambda c: (-len(c.projects), -c.count, c.label))


def distinct_projects(written: Sequence[str]) -> list[str]:
    """The projects among ``written``, one per folded name (``kb.search.facets``), each as most lessons spell it.

    "Space Shuttle Program" and "Space shuttle program", "Deep Space Network
    (DSN)" and "DSN" are one project: a problem they share recurs in one
    project, not two.
    """
    keys = project_keys(written)
    spellings: dict[str, Counter[str]] = {}
    for name in written:
        spellings.setdefault(keys[name], Counter())[name] += 1
    return sorted(most_written(names) for names in spellings.values())


def _trend(dates: Sequence[str], today: dt.date) -> str:
    year_ago, two_years_ago = (today - dt.timedelta(days=365)).isoformat(), (today - dt.timedelta(days=730)).isoformat()
    recent = sum(1 for d in dates if d > year_ago)
    before = sum(1 for d in dates if two_years_ago < d <= year_ago)
    return "rising" if recent > before else "falling" if recent < before else "steady"


class ClusterCache:
    """The latest clustering of each view, recomputed off the request path when the indexes move on.

    ``current(visible_to)`` never blocks: it returns the view's last result
    (None before its first) and wakes the background thread (``start``) when
    the view is new or the indexes moved on. ``refresh`` computes every view
    kept whose result is out of date; the CLI and tests call it directly.
    The two views everyone shares (every lesson; unrestricted lessons only)
    are always kept, group views for the ``MAX_VIEWS`` most recently asked.
    Views that see the same lessons (no restricted lesson, say) share one
    computation.
    """

    def __init__(self, indexer_of: Callable[[], Indexer], *, interval: float = 2.0) -> None:
        self._indexer_of = indexer_of
        self.interval = interval
        self._views: OrderedDict[ViewKey, Clustering | None] = OrderedDict(((None, None), ((), None)))
        self._views_lock = threading.Lock()  # held only to read or write _views: never while computing
        self._lock = threading.Lock()  # one computation at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self, visible_to: ViewKey = None) -> Clustering | None:
        with self._views_lock:
            if visible_to not in self._views:
                self._views[visible_to] = None
                while len(self._views) > MAX_VIEWS + 2:
                    oldest = next(k for k in self._views if k not in (None, ()))
                    del self._views[oldest]
            self._views.move_to_end(visible_to)
            found = self._views[visible_to]
        if found is None or found.seq != self._indexer_of().seq:
            self._wake.set()
        return found

    def refresh(self, visible_to: ViewKey = None) -> Clustering:
        """Bring every kept view up to date (and ``visible_to``'s, kept from now on); returns ``visible_to``'s."""
        self.current(visible_to)
        with self._lock:
            indexer = self._indexer_of()
            with self._views_lock:
                views = list(self._views.items())
            done: dict[tuple[str, ...], Clustering] = {}  # lesson ids → their clustering, shared by equal views
            out: Clustering | None = None
            for key, found in views:
                if found is None or found.seq != indexer.seq:
                    lessons = tuple(d.id for d in _lessons(indexer.snapshot().docs, key))
                    found = done.get(lessons) or compute(indexer, visible_to=key)
                    done[lessons] = found
                    with self._views_lock:
                        if key in self._views:
                            self._views[key] = found
                if key == visible_to:
                    out = found
            # evicted meanwhile by more new views than MAX_VIEWS: computed for this caller all the same
            return out if out is not None else compute(indexer, visible_to=visible_to)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kb-clusters", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # a failed run must not kill the thread; the next one retries
                log.exception("clustering lessons failed")
            self._wake.wait(self.interval)
            self._wake.clear()
