"""Postings of one field (vocabulary, term frequencies, lengths) and BM25 over them.

Layout, chosen so that adding, removing and querying all stay cheap at 100k+ rows:

- **Segments**, term-major: ``indptr[t]:indptr[t+1]`` slices ``rows``
  (ascending), ``tfs`` and ``impacts`` of term ``t``. A segment holds a
  contiguous range of rows. A query touches only its own terms' postings.
- **Tail**, doc-major and append-only: rows added since the last seal. A query
  scans it whole through a term→weight table, cheap while it is small; past
  :data:`TAIL_LIMIT` postings it is sealed into a new segment.
- **Merging** is log-structured: segments of the same size class (powers of
  :data:`MERGE_FACTOR` × ``TAIL_LIMIT``) merge by a linear interleave, so each
  posting is copied O(log n) times however the rows arrive, and a query sees
  a handful of segments.
- **Impacts**: each posting stores its BM25 term-frequency part
  ``tf / (tf + k1·(1 − b + b·len/avglen))`` so a query is gather, multiply,
  sum. They are computed for one reference average length and recomputed
  (O(postings)) once the true average drifts more than :data:`AVGLEN_DRIFT`,
  or when k1 or b change.
- Removal is the caller's tombstone; :meth:`Field.compact` drops dead rows.
  Statistics (N, document frequencies, average length) count every stored
  row, dead ones included, until compaction, as Lucene does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=np.generic)
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U16 = npt.NDArray[np.uint16]
Bool = npt.NDArray[np.bool_]

TAIL_LIMIT = 100_000
"""Postings kept doc-major before sealing a segment (~700 chunks); a scan costs ~0.3 ms."""
MERGE_FACTOR = 4
AVGLEN_DRIFT = 0.02
"""Recompute impacts once the average length moved by this share (scores move < ~1%)."""

_EMPTY_ROWS: I64 = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES: F64 = np.zeros(0, dtype=np.float64)


class Grow(Generic[T]):
    """A 1-D numpy array with amortised O(1) append."""

    def __init__(self, dtype: type[T]) -> None:
        self._buf: npt.NDArray[T] = np.zeros(16, dtype=dtype)
        self.size = 0

    def extend(self, values: npt.ArrayLike) -> None:
        arr = np.asarray(values, dtype=self._buf.dtype)
        need = self.size + len(arr)
        if need > len(self._buf):
            new = np.zeros(max(need, 2 * len(self._buf)), dtype=self._buf.dtype)
            new[: self.size] = self._buf[: self.size]
            self._buf = new
        self._buf[self.size : need] = arr
        self.size = need

    def view(self) -> npt.NDArray[T]:
        return self._buf[: self.size]

    def replace(self, data: npt.ArrayLike) -> None:
        arr = np.asarray(data, dtype=self._buf.dtype)
        self._buf = arr.copy()
        self.size = len(arr)


@dataclass
class PostingsSegment:
    """Term-major postings of a contiguous range of rows (merged log-structured, as Lucene's segments are)."""

    indptr: I64  # one more than the vocabulary size when the segment was made
    rows: I32
    tfs: U16  # term frequency, capped at 65 535
    impacts: F32

    @property
    def nnz(self) -> int:
        return len(self.rows)

    @property
    def n_terms(self) -> int:
        return len(self.indptr) - 1


def _level(nnz: int) -> int:
    level = 0
    size = TAIL_LIMIT * MERGE_FACTOR
    while nnz >= size:
        level += 1
        size *= MERGE_FACTOR
    return level


def _merge(a: PostingsSegment, b: PostingsSegment, n_terms: int) -> PostingsSegment:
    """Interleave two segments term by term; every row of ``b`` follows every row of ``a``."""
    a_len = np.zeros(n_terms, dtype=np.int64)
    a_len[: a.n_terms] = np.diff(a.indptr)
    b_len = np.zeros(n_terms, dtype=np.int64)
    b_len[: b.n_terms] = np.diff(b.indptr)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(a_len + b_len, out=indptr[1:])
    starts = indptr[:-1]
    a_start = np.zeros(n_terms, dtype=np.int64)
    a_start[: a.n_terms] = a.indptr[:-1]
    b_start = np.zeros(n_terms, dtype=np.int64)
    b_start[: b.n_terms] = b.indptr[:-1]
    a_dst = np.arange(a.nnz, dtype=np.int64) + np.repeat(starts - a_start, a_len)
    b_dst = np.arange(b.nnz, dtype=np.int64) + np.repeat(starts + a_len - b_start, b_len)
    total = int(indptr[-1])
    out = PostingsSegment(
        indptr,
        np.empty(total, dtype=np.int32),
        np.empty(total, dtype=np.uint16),
        np.empty(total, dtype=np.float32),
    )
    for name in ("rows", "tfs", "impacts"):
        dst = getattr(out, name)
        dst[a_dst] = getattr(a, name)
        dst[b_dst] = getattr(b, name)
    return out


class Field:
    """One bag-of-terms field of every row, scored with BM25 (Lucene's IDF)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self.df: Grow[np.int32] = Grow(np.int32)
        self.lengths: Grow[np.float32] = Grow(np.float32)  # per row, dead rows included
        self.total_length = 0.0
        self.segments: list[PostingsSegment] = []
        self.tail_rows: Grow[np.int32] = Grow(np.int32)
        self.tail_terms: Grow[np.int32] = Grow(np.int32)
        self.tail_tfs: Grow[np.uint16] = Grow(np.uint16)
        self._weights: F64 = np.zeros(0, dtype=np.float64)  # scratch: term id -> query weight
        self._impact_key: tuple[float, float, float] | None = None  # (k1, b, reference avglen)
        self._norm: F32 | None = None  # per row k1·(1 − b + b·len/ref), for the tail
        self._norm_rows = -1
        self._lock = threading.Lock()

    # -- building --------------------------------------------------------------

    def add_rows(self, first_row: int, docs: Sequence[Sequence[str]]) -> None:
        """Append ``docs`` as rows ``first_row, first_row + 1, ...``."""
        if self.lengths.size != first_row:
            raise ValueError("rows must be appended in order")
        if not docs:
            return
        vocab = self.vocab
        known = len(vocab)
        setdefault = vocab.setdefault
        # one dict lookup per token; a new term gets the next dense id
        flat = [setdefault(t, len(vocab)) for tokens in docs for t in tokens]
        if len(vocab) > known:
            self.terms.extend(itertools.islice(vocab, known, None))
            self.df.extend(np.zeros(len(vocab) - known, dtype=np.int32))
        lengths = np.fromiter((len(tokens) for tokens in docs), dtype=np.int64, count=len(docs))
        self.lengths.extend(lengths)
        self.total_length += float(lengths.sum())
        if not flat:
            return
        n_terms = len(vocab)
        doc = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        keys, tfs = np.unique(doc * n_terms + np.asarray(flat, dtype=np.int64), return_counts=True)
        rows = first_row + keys // n_terms
        term_ids = keys % n_terms
        df = self.df.view()
        df += np.bincount(term_ids, minlength=len(df)).astype(np.int32)
        self.tail_rows.extend(rows)
        self.tail_terms.extend(term_ids)
        self.tail_tfs.extend(np.minimum(tfs, 65_535))
        if self.tail_rows.size > TAIL_LIMIT:
            self._seal()

    def _seal(self) -> None:
        """Turn the tail into a segment, then merge segments of the same size class."""
        if self.tail_rows.size == 0:
            return
        t_terms = self.tail_terms.view()
        order = np.argsort(t_terms, kind="stable")  # stable: rows stay ascending per term
        n_terms = len(self.vocab)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(t_terms, minlength=n_terms), out=indptr[1:])
        rows = self.tail_rows.view()[order]
        tfs = self.tail_tfs.view()[order]
        seg = PostingsSegment(indptr, rows, tfs, np.zeros(len(rows), dtype=np.float32))
        if self._impact_key is not None:
            k1, b, ref = self._impact_key
            seg.impacts = self._impacts(seg, k1, b, ref)
        self.segments.append(seg)
        for g in (self.tail_rows, self.tail_terms):
            g.replace(np.zeros(0, dtype=np.int32))
        self.tail_tfs.replace(np.zeros(0, dtype=np.uint16))
        segs = self.segments
        while len(segs) >= 2 and _level(segs[-1].nnz) >= _level(segs[-2].nnz):
            b_seg = segs.pop()
            segs[-1] = _merge(segs[-1], b_seg, n_terms)

    def flush(self) -> None:
        """Seal the tail and merge everything into one segment."""
        self._seal()
        n_terms = len(self.vocab)
        while len(self.segments) >= 2:
            b_seg = self.segments.pop()
            self.segments[-1] = _merge(self.segments[-1], b_seg, n_terms)

    def compact(self, alive: Bool) -> None:
        """Drop dead rows (renumbering the live ones densely) and unused terms."""
        self.flush()
        n_terms = len(self.vocab)
        seg = self.segments[0] if self.segments else PostingsSegment(np.zeros(n_terms + 1, dtype=np.int64), *_empty3())
        new_row = np.cumsum(alive, dtype=np.int64) - 1
        keep = alive[seg.rows]
        seg_len = np.zeros(n_terms, dtype=np.int64)
        seg_len[: seg.n_terms] = np.diff(seg.indptr)
        entry_term = np.repeat(np.arange(n_terms, dtype=np.int64), seg_len)[keep]
        df = np.bincount(entry_term, minlength=n_terms).astype(np.int64)
        del entry_term
        used = df > 0
        self.terms = [t for t, u in zip(self.terms, used.tolist(), strict=True) if u]
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        self.df.replace(df[used].astype(np.int32))
        indptr = np.zeros(len(self.terms) + 1, dtype=np.int64)
        np.cumsum(df[used], out=indptr[1:])
        rows = new_row[seg.rows[keep]].astype(np.int32)
        self.segments = [PostingsSegment(indptr, rows, seg.tfs[keep], seg.impacts[keep])] if len(rows) else []
        lengths = self.lengths.view()[alive]
        self.lengths.replace(lengths)
        self.total_length = float(lengths.sum(dtype=np.float64))
        self._impact_key = None
        self._norm = None

    def load_segment(self, indptr: I64, rows: I32, tfs: U16) -> None:
        """Install one segment read from disk (impacts are recomputed on first use)."""
        seg = PostingsSegment(indptr, rows, tfs, np.zeros(len(rows), dtype=np.float32))
        self.segments = [seg] if len(rows) else []
        self.total_length = float(self.lengths.view().sum(dtype=np.float64))
        self._impact_key = None

    # -- scoring ---------------------------------------------------------------

    def term_ids(self, terms: Sequence[str]) -> list[int]:
        return [tid for t in terms if (tid := self.vocab.get(t)) is not None]

    def _avglen(self) -> float:
        n = self.lengths.size
        return self.total_length / n if n and self.total_length > 0 else 1.0

    def _row_norm(self, k1: float, b: float, ref: float) -> F32:
        norm: F32 = (k1 * (1.0 - b + b * self.lengths.view() / np.float32(ref))).astype(np.float32)
        return norm

    def _impacts(self, seg: PostingsSegment, k1: float, b: float, ref: float) -> F32:
        norm = self._norm if self._norm is not None and self._norm_rows == self.lengths.size else None
        if norm is None:
            norm = self._row_norm(k1, b, ref)
        tfs = seg.tfs.astype(np.float32)
        impacts: F32 = (tfs / (tfs + norm[seg.rows])).astype(np.float32)
        return impacts

    def _ensure_impacts(self, k1: float, b: float) -> F32:
        """Make every segment's impacts current for ``k1, b``; return the per-row norms."""
        avg = self._avglen()
        key = self._impact_key
        if key is None or key[0] != k1 or key[1] != b or abs(avg / key[2] - 1.0) > AVGLEN_DRIFT:
            self._impact_key = key = (k1, b, avg)
            self._norm = self._row_norm(k1, b, avg)
            self._norm_rows = self.lengths.size
            for seg in self.segments:
                seg.impacts = self._impacts(seg, k1, b, avg)
        elif self._norm is None or self._norm_rows != self.lengths.size:
            self._norm = self._row_norm(k1, b, key[2])
            self._norm_rows = self.lengths.size
        assert self._norm is not None
        return self._norm

    def contributions(self, term_ids: Sequence[int], weight: float, k1: float, b: float) -> tuple[I64, F64]:
        """``(rows, weight × BM25 term score)`` for every posting of ``term_ids`` (rows repeat)."""
        if not term_ids or weight <= 0:
            return _EMPTY_ROWS, _EMPTY_SCORES
        n = self.lengths.size
        ids = np.asarray(term_ids, dtype=np.int64)
        df = self.df.view()[ids]
        idf = np.log1p((n - df + 0.5) / (df + 0.5)) * (weight * (k1 + 1.0))
        parts_rows: list[npt.NDArray[np.int32]] = []
        parts_imp: list[F32] = []
        counts: list[int] = []
        weights: list[float] = []
        with self._lock:  # impacts and the scratch table are shared by concurrent searches
            norm = self._ensure_impacts(k1, b)
            segments = list(self.segments)
            if self.tail_rows.size:
                if len(self._weights) < len(self.vocab):
                    self._weights = np.zeros(max(len(self.vocab), 2 * len(self._weights)), dtype=np.float64)
                self._weights[ids] = idf
                t_terms = self.tail_terms.view()
                w_all = self._weights[t_terms]
                self._weights[ids] = 0.0
                hit = np.flatnonzero(w_all)
                if len(hit):
                    rows = self.tail_rows.view()[hit]
                    tf = self.tail_tfs.view()[hit].astype(np.float64)
                    parts_rows.append(rows)
                    parts_imp.append((w_all[hit] * tf / (tf + norm[rows])).astype(np.float32))
                    counts.append(len(hit))
                    weights.append(1.0)
        for seg in segments:
            indptr = seg.indptr
            impacts = seg.impacts
            for tid, w in zip(term_ids, idf.tolist(), strict=True):
                if tid >= seg.n_terms:
                    continue
                s, e = int(indptr[tid]), int(indptr[tid + 1])
                if e > s:
                    parts_rows.append(seg.rows[s:e])
                    parts_imp.append(impacts[s:e])
                    counts.append(e - s)
                    weights.append(w)
        if not parts_rows:
            return _EMPTY_ROWS, _EMPTY_SCORES
        rows_all: I64 = np.concatenate(parts_rows).astype(np.int64)
        scores: F64 = np.concatenate(parts_imp) * np.repeat(np.asarray(weights), counts)
        return rows_all, scores

    def group_contributions(self, groups: Sequence[Sequence[int]], k1: float, b: float) -> tuple[I64, F64]:
        """``(rows, BM25 score)`` of each group of term ids scored as one pseudo-term (rows repeat).

        Pirkola's structured query (SIGIR 1998): a group is one source word's
        translations; a row's term frequency is the sum over the group's terms
        and the document frequency counts the rows holding any of them, so a
        word with ten translations weighs what a word with one does, and a rare
        translation is not mistaken for a rare word. Sums are dense per-row
        counts (``bincount``), not a sort of the postings: a common gloss word
        owns tens of thousands of rows at 100k chunks.
        """
        n = self.lengths.size
        out_rows: list[I64] = []
        out_scores: list[F64] = []
        with self._lock:
            norm = self._ensure_impacts(k1, b)
            segments = list(self.segments)
            tail = (self.tail_rows.view(), self.tail_terms.view(), self.tail_tfs.view())
        if len(tail[0]):  # one pass over the tail for every group's terms, then per term on what it kept
            wanted = np.zeros(len(self.vocab), dtype=np.bool_)
            wanted[[t for g in groups for t in g]] = True
            keep = np.flatnonzero(wanted[tail[1]])
            tail = (tail[0][keep], tail[1][keep], tail[2][keep])
        for group in groups:
            rows_parts: list[npt.NDArray[np.int32]] = []
            tf_parts: list[U16] = []
            for tid in group:
                for seg in segments:
                    if tid < seg.n_terms:
                        s, e = int(seg.indptr[tid]), int(seg.indptr[tid + 1])
                        rows_parts.append(seg.rows[s:e])
                        tf_parts.append(seg.tfs[s:e])
                if len(tail[0]):
                    hit = np.flatnonzero(tail[1] == tid)
                    rows_parts.append(tail[0][hit])
                    tf_parts.append(tail[2][hit])
            if not rows_parts:
                continue
            all_rows = np.concatenate(rows_parts)
            if not len(all_rows):
                continue
            rows: I64
            tf: F64
            weights = np.concatenate(tf_parts).astype(np.float64)
            if len(group) == 1:
                rows, tf = all_rows.astype(np.int64), weights
            elif 16 * len(all_rows) < n:  # few postings: sorting them beats a pass over every row
                rows, inverse = np.unique(all_rows.astype(np.int64), return_inverse=True)
                tf = np.bincount(inverse, weights=weights, minlength=len(rows)).astype(np.float64, copy=False)
            else:
                sums: F64 = np.bincount(all_rows, weights=weights, minlength=n).astype(np.float64, copy=False)
                rows = np.flatnonzero(sums).astype(np.int64)
                tf = sums[rows]
            df = len(rows)
            idf = float(np.log1p((n - df + 0.5) / (df + 0.5))) * (k1 + 1.0)
            out_rows.append(rows)
            out_scores.append(idf * tf / (tf + norm[rows]))
        if not out_rows:
            return _EMPTY_ROWS, _EMPTY_SCORES
        return np.concatenate(out_rows), np.concatenate(out_scores)

    def nbytes(self) -> int:
        segs = sum(s.indptr.nbytes + s.rows.nbytes + s.tfs.nbytes + s.impacts.nbytes for s in self.segments)
        tail = self.tail_rows.view().nbytes + self.tail_terms.view().nbytes + self.tail_tfs.view().nbytes
        return int(segs + tail + self.df.view().nbytes + self.lengths.view().nbytes)

    def main_arrays(self) -> tuple[I64, I32, U16]:
        """``(indptr, rows, tfs)`` of the single segment left by :meth:`flush`."""
        self.flush()
        if not self.segments:
            return np.zeros(len(self.vocab) + 1, dtype=np.int64), *_empty3()[:2]
        seg = self.segments[0]
        indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        indptr[: len(seg.indptr)] = seg.indptr
        indptr[len(seg.indptr) :] = seg.indptr[-1]
        return indptr, seg.rows, seg.tfs


def _empty3() -> tuple[I32, U16, F32]:
    return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.float32)
