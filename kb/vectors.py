"""The vector index: FAISS inner product over unit vectors, keyed by chunk id.

Exact search (``IndexFlatIP``) below ``ann_threshold`` vectors; above it an
inverted-file index (``IndexIVFFlat``), which, unlike HNSW, supports removing
ids, so incremental updates stay cheap. Measured on this 2-core machine with
512-dim vectors and one thread: a flat scan of 100k vectors costs 30–55 ms (it
reads 200 MB per query: memory bandwidth, not arithmetic), IVF with
``nlist=4·√n`` and ``nprobe=32`` about 3 ms. ``bench/search_scale.py``
measures IVF's recall@10 against exact search on real embeddings: 0.971 with
nprobe 32 at 100k chunks, hence the default of 64.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

try:
    import faiss
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the vector index needs FAISS: pip install faiss-cpu") from exc

from kb.embedders.base import Vectors

Ids = npt.NDArray[np.int64]

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
    def __len__(self) -> int: ...
    def save(self, path: Path) -> None: ...


class FaissIndex:
    """``VectorIndex`` on FAISS: flat (exact) until ``ann_threshold`` vectors, then IVF.

    ``nprobe`` is how many of the IVF lists a query visits; more is slower and
    closer to exact.
    """

    def __init__(self, dim: int, *, ann_threshold: int = 50_000, nprobe: int = 64, index: Any = None) -> None:
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self._index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

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
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        if not self.approximate and len(self) >= self.ann_threshold:
            self._to_ivf()

    def remove(self, ids: Iterable[int]) -> None:
        array = np.fromiter(ids, dtype=np.int64)
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
        """The stored vectors of ``ids``, in order; a row of NaN for an id not stored (recurring-problem clusters)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full((len(ids), self.dim), np.nan, dtype=np.float32)
        for n, i in enumerate(ids.tolist()):
            with contextlib.suppress(RuntimeError):
                out[n] = self._index.reconstruct(i)
        return out

    def search(self, query: Vectors, k: int, allowed: Ids | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest ids with their inner products, best first, optionally only among ``allowed``."""
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
        """Rebuild as IVF, trained on the vectors held now (at most 64 per list, FAISS's sampling rule)."""
        ids, vectors = self.vectors()
        nlist = max(1, int(4 * math.sqrt(len(ids))))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), size=min(len(vectors), nlist * 64), replace=False)]
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # training is real parallel work
        ivf.train(sample)
        ivf.set_direct_map_type(HASHTABLE)  # for scores(): read vectors back by id
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = self.nprobe
        self._index = ivf

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
