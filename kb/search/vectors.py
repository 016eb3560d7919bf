"""The vector index: FAISS inner product over unit vectors, keyed by chunk id.

Exact search (``IndexFlatIP``) below ``ann_threshold`` vectors; above it an
inverted-file index (``IndexIVFFlat``), which, unlike HNSW, supports removing
ids, so incremental updates stay cheap. Measured on this 2-core machine with
512-dim vectors and one thread: a flat scan of 100k vectors costs 30–55 ms (it
reads 200 MB per query: memory bandwidth, not arithmetic), IVF with
``nlist=4·√n`` and ``nprobe=32`` about 3 ms. ``bench/search_scale.py``
measures IVF's recall@10 against exact search on real embeddings: 0.971 with
nprobe 32 at 100k chunks, hence the default of 64.

An IVF's lists are fixed when it is trained. Grown from 50k to 1M vectors, 894
lists hold ~1,100 vectors each and a query's 64 lists scan 7 % of the index;
so once the index holds ``retrain_factor`` (4) times the vectors it was trained
for, it is re-trained for its new size in a background thread, aside, and
swapped in (``bench/ann_scale.py`` measures both at 1M).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

try:
    import faiss
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the vector index needs FAISS: pip install faiss-cpu") from exc

from kb.search.embedders.base import Vectors

Ids = npt.NDArray[np.int64]
log = logging.getLogger(__name__)

NO_MAP: int = faiss.DirectMap.NoMap  # type: ignore[attr-defined]
HASHTABLE: int = faiss.DirectMap.Hashtable  # type: ignore[attr-defined]
"""An IVF's id → (list, offset) map kind that survives ``remove_ids``; lets ``scores`` read vectors by id."""


class VectorIndex(Protocol):
    """Nearest-neighbour search over unit vectors by inner product."""

    dim: int

    def add(self, ids: Ids, vectors: Vectors) -> None: ...
    def remove(self, ids: Iterable[int]) -> None: ...
    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]: ...
    def scores(self, query: Vectors, ids: Ids) -> npt.NDArray[np.float32]: ...
    def stored(self, ids: Ids) -> Vectors: ...
    def __len__(self) -> int: ...
    def save(self, path: Path) -> None: ...

    @property
    def approximate(self) -> bool:
        """Whether ``search`` may miss a neighbour (an ANN structure) rather than rank every vector."""
        ...


def nlist_for(n: int) -> int:
    """IVF lists for ``n`` vectors: 4·√n (FAISS's guidance is 4–16·√n; fewer lists keep training cheap)."""
    return max(1, int(4 * math.sqrt(n)))


def train_ivf(ids: Ids, vectors: Vectors, *, nprobe: int) -> Any:
    """An IVF holding ``vectors`` under ``ids``, trained on them (at most 64 per list, FAISS's sampling rule)."""
    dim = vectors.shape[1]
    nlist = nlist_for(len(ids))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    ivf.train(vectors[rng.choice(len(vectors), size=min(len(vectors), nlist * 64), replace=False)])
    ivf.set_direct_map_type(HASHTABLE)  # for scores(): read vectors back by id
    ivf.add_with_ids(vectors, ids)
    ivf.nprobe = nprobe
    return ivf


class _Retraining:
    """An IVF being re-trained aside, and the writes made to the live index meanwhile, to replay on the new one."""

    def __init__(self) -> None:
        self.journal: list[tuple[Ids, Vectors | None]] = []  # (ids, vectors) added or (ids, None) removed, in order
        self.built: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread: threading.Thread | None = None


class FaissIndex:
    """``VectorIndex`` on FAISS: flat (exact) until ``ann_threshold`` vectors, then IVF.

    ``nprobe`` is how many of the IVF lists a query visits; more is slower and
    closer to exact. Once the IVF holds more than ``retrain_factor`` times the
    vectors its lists were trained for, an ``add`` starts re-training it for
    its current size on a background thread; searches and writes keep using
    the live index (writes are also journalled), and the first call after the
    build replays the journal onto the new index and swaps it in. Like every
    other method, that swap runs on the caller's thread, under the caller's
    lock (the indexer's): the build thread never touches the live index.
    """

    def __init__(
        self,
        dim: int,
        *,
        ann_threshold: int = 50_000,
        nprobe: int = 64,
        index: Any = None,
        retrain_factor: float = 4.0,
    ) -> None:
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self.retrain_factor = retrain_factor
        self._index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._retraining: _Retraining | None = None

    @property
    def trained_for(self) -> int:
        """Vectors the IVF's lists were sized for (from their number: nlist = 4·√n); 0 while exact."""
        return int((self._index.nlist / 4) ** 2) if self.approximate else 0

    @property
    def retraining(self) -> bool:
        """A re-trained IVF is being built, or built and waiting for the next call to swap it in."""
        return self._retraining is not None

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.dim}, got shape {vectors.shape}")
        ids = np.asarray(ids, dtype=np.int64)
        self.remove(ids)  # re-adding an id replaces it
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index.add_with_ids(vectors, ids)
        if self._retraining is not None:
            self._retraining.journal.append((ids.copy(), vectors.copy()))
        if not self.approximate and len(self) >= self.ann_threshold:
            self._to_ivf()
        elif self.approximate and self._retraining is None and len(self) > self.retrain_factor * self.trained_for:
            self._start_retraining()

    def remove(self, ids: Iterable[int]) -> None:
        self._adopt_retrained()
        array = np.fromiter(ids, dtype=np.int64)
        if self._retraining is not None and len(array):
            self._retraining.journal.append((array.copy(), None))
        if len(array) and len(self):
            # the IVF's id hashtable removes only by an explicit id array; the flat map scans
            # every stored id, for which a hashed batch is the cheap membership test
            selector = faiss.IDSelectorArray(array) if self.approximate else faiss.IDSelectorBatch(array)
            self._index.remove_ids(selector)

    def scores(self, query: Vectors, ids: Ids) -> npt.NDArray[np.float32]:
        """Inner products of ``query`` with the stored vectors of ``ids``, in order; NaN for an id not stored.

        The hybrid search asks for the dense scores of documents the lexical leg
        found but the dense leg's top k did not: reading a few hundred stored
        vectors back costs ~1 ms, where a filtered search would scan them all.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros(0, dtype=np.float32)
        self._adopt_retrained()
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        try:
            stored = self._index.reconstruct_batch(ids)
        except RuntimeError:  # an id without a vector: read them one by one
            out = np.full(len(ids), np.nan, dtype=np.float32)
            for n, i in enumerate(ids.tolist()):
                with contextlib.suppress(RuntimeError):
                    out[n] = float(self._index.reconstruct(i) @ q)
            return out
        # einsum, not ``stored @ q``: a few hundred rows is too little work to share, and the
        # matrix product's BLAS threads then spin on the other core for a while after each call,
        # which doubled the CPU time of a query at 100k chunks (bench/search_scale.py)
        products: npt.NDArray[np.float32] = np.einsum("ij,j->i", stored, q).astype(np.float32, copy=False)
        return products

    def stored(self, ids: Ids) -> Vectors:
        """The stored vectors of ``ids``, in order; a row of NaN for an id not stored.

        Recurring-problem clusters and near-duplicate folding (``Searcher._near_duplicates``) read them;
        one batch read when every id is stored, as in ``scores``.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids):
            with contextlib.suppress(RuntimeError):  # an id without a vector: read them one by one
                return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)
        out = np.full((len(ids), self.dim), np.nan, dtype=np.float32)
        for n, i in enumerate(ids.tolist()):
            with contextlib.suppress(RuntimeError):
                out[n] = self._index.reconstruct(i)
        return out

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest ids with their inner products, best first, optionally only among ``allowed``."""
        self._adopt_retrained()
        if len(self) == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # One query is too little work to share: OpenMP threads spin and, under
        # load, a 200-vector search took 16 ms with 2 threads against 0.1 ms with 1.
        faiss.omp_set_num_threads(1)
        k = min(k, len(self))
        if self.approximate and allowed is not None:
            # A filter may allow ids only in lists a normal probe skips: probe four
            # times as many lists first, and visit every list only when that finds
            # too few (the selector rejects an id before its distance is computed).
            hits = self._search(q, k, self._params(allowed, self.nprobe * 4))
            if len(hits) >= min(k, len(allowed)):
                return hits
            return self._search(q, k, self._params(allowed, self._index.nlist))
        return self._search(q, k, self._params(allowed, self.nprobe))

    def _search(self, q: Vectors, k: int, params: Any) -> list[tuple[int, float]]:
        scores, ids = self._index.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _params(self, allowed: Ids | None, nprobe: int) -> Any:
        selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)) if allowed is not None else None
        if self.approximate:
            return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
        return faiss.SearchParameters(sel=selector) if selector is not None else None  # type: ignore[call-arg]

    def vectors(self) -> tuple[Ids, Vectors]:
        """Every stored (id, vector); used to rebuild as IVF and to compare with exact search."""
        n = len(self)
        if self.approximate:
            invlists = self._index.invlists
            ids_parts, vec_parts = [], []
            for list_no in range(self._index.nlist):
                size = invlists.list_size(list_no)
                if size == 0:
                    continue
                ids_parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
                codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * self.dim * 4).copy()
                vec_parts.append(codes.view(np.float32).reshape(size, self.dim))
            if not ids_parts:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            return np.concatenate(ids_parts).astype(np.int64), np.concatenate(vec_parts)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        vectors = self._index.index.reconstruct_n(0, n) if n else np.zeros((0, self.dim), dtype=np.float32)
        return ids, np.asarray(vectors, dtype=np.float32)

    def _to_ivf(self) -> None:
        """Rebuild as IVF, trained on the vectors held now (in the adding thread: at the threshold it is quick)."""
        ids, vectors = self.vectors()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # training is real parallel work
        self._index = train_ivf(ids, vectors, nprobe=self.nprobe)

    def _start_retraining(self) -> None:
        """Copy the vectors now, then train and fill an IVF for them on a background thread."""
        ids, vectors = self.vectors()
        job = _Retraining()

        def build() -> None:
            # the thread's OpenMP pool is the process's (one thread by default): searches keep the other core
            try:
                job.built = train_ivf(ids, vectors, nprobe=self.nprobe)
            except BaseException as exc:  # reported by the next call on the caller's thread
                job.error = exc
            finally:
                job.done.set()

        job.thread = threading.Thread(target=build, name="kb-ivf-retrain", daemon=True)
        self._retraining = job
        job.thread.start()

    def _adopt_retrained(self) -> None:
        """Swap in a finished re-trained IVF, after replaying onto it the writes made during its build."""
        job = self._retraining
        if job is None or not job.done.is_set():
            return
        self._retraining = None
        if job.error is not None:  # searching goes on with the old lists; no retry until the next start
            log.error("re-training the vector index failed; keeping the old index", exc_info=job.error)
            self.retrain_factor = math.inf
            return
        fresh = job.built
        for ids, vectors in job.journal:
            fresh.remove_ids(faiss.IDSelectorArray(ids))
            if vectors is not None:
                fresh.add_with_ids(vectors, ids)
        self._index = fresh

    def wait_retrained(self) -> None:
        """Block until a running re-training is built and swapped in (benchmarks, tests, saving a final state)."""
        job = self._retraining
        if job is not None:
            job.done.wait()
            self._adopt_retrained()

    def exact_copy(self) -> FaissIndex:
        """A flat index with the same vectors (for measuring the IVF's recall)."""
        ids, vectors = self.vectors()
        flat = FaissIndex(self.dim, ann_threshold=len(ids) + 1)
        flat.add(ids, vectors)
        return flat

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, ann_threshold: int = 50_000, nprobe: int = 64) -> FaissIndex:
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF) and index.direct_map.type == NO_MAP:
            index.set_direct_map_type(HASHTABLE)  # saved before scores() existed
        return cls(int(index.d), ann_threshold=ann_threshold, nprobe=nprobe, index=index)
