"""Keeps the derived indexes (vector and lexical) in step with the store.

The store is the system of record; the indexes follow its change log. Each
saved *generation* is an immutable folder ``index/gen-N`` holding the FAISS
index, the BM25 index and ``state.json`` (the change sequence it reflects, the
embedder's identity and dimension, and per document the metadata search filters
on and the chunk ids it indexed). ``index/CURRENT`` names the live generation
and is replaced atomically, so a crash at any moment leaves a consistent
generation on disk; on start the indexer loads it and catches up from the
change log. A generation stamped with another embedder is never mixed with new
vectors: everything is re-embedded into a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from kb.record.models import Chunk, Document
from kb.record.roles import IndexSource
from kb.search.bodies import DocumentBodies, bodies_of
from kb.search.embedders.base import Embedder
from kb.search.lexical import Bm25Index
from kb.search.lexical.protocol import LexicalIndex
from kb.search.vectors import FaissIndex, VectorIndex

# 2: the lexical index has a gloss field and per-chunk languages; 3: documents carry parent_id and supersedes
STATE_FORMAT = "kb-index/3"
CATCH_UP_BATCH = 256  # documents per embedding batch while catching up


@dataclass
class DocInfo:
    """What search needs of a document without a database round trip: filters and the hit line."""

    id: str
    kind: str
    title: str
    language: str
    project: str | None
    phase: str | None
    tags: list[str]
    status: str
    date: str | None  # ISO date: written date, else creation date
    chunk_ids: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # restricted to these groups (see kb.identity.access)
    parent_id: str | None = None  # a lesson's retrospective (see kb.search.findings)
    supersedes: str | None = None  # a standard's previous version, by title (see kb.pmo.lifecycle.family)

    @classmethod
    def of(cls, doc: Document, chunk_ids: list[int]) -> DocInfo:
        date = doc.doc_date or doc.created_at.date()
        return cls(
            id=doc.id,
            kind=str(doc.kind),
            title=doc.title,
            language=doc.language,
            project=doc.project,
            phase=doc.phase,
            tags=list(doc.tags),
            status=str(doc.status),
            date=date.isoformat(),
            chunk_ids=chunk_ids,
            groups=list(doc.groups),
            parent_id=doc.parent_id,
            supersedes=doc.supersedes,
        )


def index_text(title: str, chunk: Chunk) -> str:
    """The text embedded and BM25-indexed for a chunk: the document title, its heading, the chunk.

    The title is repeated in every chunk because a chunk from the middle of a
    long document ("3. 承認") means little without it.
    """
    parts = [title] if title else []
    if chunk.heading and not chunk.text.startswith(chunk.heading.split(" > ")[-1]):
        parts.append(chunk.heading)
    if chunk.text != title:
        parts.append(chunk.text)
    return "\n".join(parts)


@dataclass(frozen=True)
class IndexView:
    """A consistent read of what the indexes hold, for callers outside the indexer: the documents (read-only),
    the change-log watermark ``seq`` and the ``version`` bumped by every apply (what result caches key on).

    Taken with :meth:`Indexer.snapshot`; it never changes after, so a caller
    can hold it across a catch-up without a lock and without copying.
    """

    docs: Mapping[str, DocInfo]
    seq: int
    version: int


class Indexer:
    """The vector and lexical indexes of one data dir, following one store.

    Writes (catch-up) and reads (search) may come from different threads: index
    mutations and searches take ``lock``; embedding, the slow part, runs outside it.
    """

    def __init__(
        self, store: IndexSource, embedder: Embedder, directory: Path, *, ann_threshold: int = 50_000, nprobe: int = 64
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.directory = directory
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self.lock = threading.RLock()
        self._seq = 0  # watermark: every change up to here is applied, and none can still appear below it
        self._version = 0  # bumped by every apply: what caches of search results key on
        self._view: IndexView | None = None  # the last snapshot handed out (see snapshot())
        self._applied_above: set[int] = set()  # seqs applied beyond the watermark (a gap lies below them)
        self._gaps: dict[int, int] = {}  # missing seq → transaction id bound when first seen missing
        self._docs: dict[str, DocInfo] = {}
        self.chunk_doc: dict[int, str] = {}
        self.vectors: VectorIndex = FaissIndex(embedder.dim, ann_threshold=ann_threshold, nprobe=nprobe)
        self.lexical: LexicalIndex = Bm25Index()
        self.bodies = DocumentBodies(embedder.dim)  # each document's body vector, for near-duplicate folding
        self._catch_up_lock = threading.Lock()
        self.text_hashes: set[str] = set()  # of every text this indexer embedded or read (for pruning)

    # -- lifecycle ---------------------------------------------------------

    @classmethod
    def open(cls, store: IndexSource, embedder: Embedder, directory: Path, **kwargs: Any) -> Indexer:
        """Load the current generation when its stamps match, else start empty (catch up separately)."""
        indexer = cls(store, embedder, directory, **kwargs)
        generation = indexer._current_generation()
        if generation is not None:
            indexer._load(generation)
        return indexer

    def _current_generation(self) -> Path | None:
        pointer = self.directory / "CURRENT"
        if not pointer.exists():
            return None
        generation = self.directory / pointer.read_text(encoding="utf-8").strip()
        state_file = generation / "state.json"
        if not state_file.exists():
            return None
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT or state.get("embedder") != self.embedder.identity:
            return None  # another embedder or format: re-embed everything rather than mix
        if state.get("dim") != self.embedder.dim:
            return None
        if state.get("lexical") != self.lexical.identity:
            return None  # another lexical format or dictionary: rebuild rather than mix terms
        return generation

    def _load(self, generation: Path) -> None:
        state = json.loads((generation / "state.json").read_text(encoding="utf-8"))
        self._seq = int(state["seq"])
        self._view = None
        self._docs = {d["id"]: DocInfo(**d) for d in state["docs"]}
        self.chunk_doc = {c: d.id for d in self._docs.values() for c in d.chunk_ids}
        self.vectors = FaissIndex.load(
            generation / "vectors.faiss", ann_threshold=self.ann_threshold, nprobe=self.nprobe
        )
        self.lexical = Bm25Index.load(generation / "lexical")
        self.bodies = DocumentBodies(self.embedder.dim)
        self.bodies.index([(d.id, d.kind, d.chunk_ids) for d in self._docs.values()], self.vectors.stored)

    def save(self) -> Path:
        """Write a new generation and make it current atomically; older generations are removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[4:]) for p in self.directory.glob("gen-*") if p.name[4:].isdigit()]
        generation = self.directory / f"gen-{max(numbers, default=0) + 1}"
        tmp = self.directory / f".{generation.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        with self.lock:
            self.vectors.save(tmp / "vectors.faiss")
            self.lexical.save(tmp / "lexical")
            state = {
                "format": STATE_FORMAT,
                "seq": self._seq,
                "embedder": self.embedder.identity,
                "dim": self.embedder.dim,
                "lexical": self.lexical.identity,
                "docs": [asdict(d) for d in self._docs.values()],
            }
        (tmp / "state.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, generation)
        pointer_tmp = self.directory / ".CURRENT.tmp"
        pointer_tmp.write_text(generation.name, encoding="utf-8")
        os.replace(pointer_tmp, self.directory / "CURRENT")
        for old in self.directory.glob("gen-*"):
            if old != generation:
                shutil.rmtree(old, ignore_errors=True)
        return generation

    # -- following the store -----------------------------------------------

    def pending(self) -> int:
        """Change-log entries not yet applied."""
        return max(0, self.store.last_seq() - self._seq)

    def catch_up(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Apply every change visible beyond the watermark; return the number of documents re-indexed or removed.

        Changes are reduced to the set of touched documents; each is re-read from
        the store, so a document written twice is embedded once, and applying a
        change again is harmless. Only one catch-up runs at a time.

        Several writers on PostgreSQL take change numbers in one order and
        commit in another: seq 8 can be visible while seq 7 is still in a
        running transaction. So the watermark (``seq``) only moves over a
        number once it is applied or can no longer appear: a missing number is
        given up when every transaction that could hold it has ended (the
        snapshot's xmin passed the id bound taken when it was first missed: that
        transaction rolled back). Changes beyond a gap are applied at once and
        remembered, so nothing waits for a slow writer. SQLite runs one write
        transaction at a time, so its numbers commit in order.
        """
        with self._catch_up_lock:
            before = self.store.transaction_horizon()
            changes: list[Any] = []
            seq = self._seq
            while True:
                page = self.store.changes_since(seq)
                changes += page
                if len(page) < 10_000:
                    break
                seq = page[-1].seq or seq
            after = self.store.transaction_horizon()
            new = [c for c in changes if c.seq not in self._applied_above]
            doc_ids = list(dict.fromkeys(c.document_id for c in new))
            done = 0
            for start in range(0, len(doc_ids), CATCH_UP_BATCH):
                batch = doc_ids[start : start + CATCH_UP_BATCH]
                self._reindex_documents(batch)
                done += len(batch)
                if on_progress:
                    on_progress(done, len(doc_ids))
            with self.lock:
                self._applied_above.update(int(c.seq) for c in new)
                self._advance(before, after)
            return len(doc_ids)

    def _advance(self, before: tuple[int, int] | None, after: tuple[int, int] | None) -> None:
        """Move the watermark over applied numbers and over gaps that can no longer fill (see ``catch_up``)."""
        top = max(self._applied_above, default=self._seq)
        while self._seq < top:
            nxt = self._seq + 1
            if nxt in self._applied_above:
                self._applied_above.discard(nxt)
            elif before is not None and after is not None:
                first_missed = self._gaps.setdefault(nxt, after[1])
                if before[0] < first_missed:  # a transaction that may hold it is still running
                    break
                del self._gaps[nxt]
            self._seq = nxt

    def _vectors(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Vectors of ``texts``: read from the store where any process embedded them before, else embedded and stored.

        Embedding is the slow part of indexing (USE-m3: a few hundred chunks a
        second on two cores); reading a stored vector costs a row. So a new
        replica, a second replica following another's writes, and a rebuild
        with the same embedder embed nothing twice.
        """
        dim = self.embedder.dim
        if not texts:
            return np.zeros((0, dim), np.float32)
        hashes = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        self.text_hashes.update(hashes)
        stored = self.store.load_vectors(self.embedder.identity, hashes)
        missing = [i for i, h in enumerate(hashes) if h not in stored or len(stored[h]) != dim * 4]
        vectors = np.zeros((len(texts), dim), np.float32)
        if missing:
            fresh = np.asarray(self.embedder.embed_documents([texts[i] for i in missing]), dtype=np.float32)
            vectors[missing] = fresh
            self.store.save_vectors(
                self.embedder.identity, {hashes[i]: fresh[k].astype("<f4").tobytes() for k, i in enumerate(missing)}
            )
        for i, h in enumerate(hashes):
            if h in stored and len(stored[h]) == dim * 4:
                vectors[i] = np.frombuffer(stored[h], dtype="<f4")
        return vectors

    def _reindex_documents(self, doc_ids: Sequence[str]) -> None:
        documents = {d.id: d for d in self.store.get_many(doc_ids)}
        chunks = self.store.chunks(list(documents))
        texts = [index_text(documents[c.document_id].title, c) for c in chunks]
        vectors = self._vectors(texts)
        ids = np.array([c.id for c in chunks], dtype=np.int64)
        by_doc: dict[str, list[int]] = {d: [] for d in documents}
        for chunk in chunks:
            by_doc[chunk.document_id].append(int(chunk.id or 0))
        row = {c: n for n, c in enumerate(ids.tolist())}
        bodies = bodies_of(
            [(d, str(doc.kind), by_doc[d]) for d, doc in documents.items()],
            lambda chunk_ids: vectors[[row[c] for c in chunk_ids.tolist()]],
        )
        with self.lock:
            stale = [c for d in doc_ids if d in self._docs for c in self._docs[d].chunk_ids]
            self.vectors.remove(stale)
            self.lexical.remove(stale)
            for chunk_id in stale:
                self.chunk_doc.pop(chunk_id, None)
            for doc_id in doc_ids:
                self._docs.pop(doc_id, None)
            self.bodies.drop(doc_ids)
            self.bodies.put(*bodies)
            self.vectors.add(ids, vectors)
            self.lexical.add(list(zip(ids.tolist(), texts, strict=True)))
            self._version += 1
            for doc_id, doc in documents.items():
                self._docs[doc_id] = DocInfo.of(doc, by_doc[doc_id])
                for chunk_id in by_doc[doc_id]:
                    self.chunk_doc[chunk_id] = doc_id

    # -- reads ---------------------------------------------------------------

    def snapshot(self) -> IndexView:
        """What the indexes hold now, as one immutable view (made again only after a change).

        Read without the lock when nothing changed: ``_version`` and ``_seq``
        move only under the lock, and a view whose numbers still match is the
        state they describe; otherwise the lock waits for the write in progress.
        """
        view = self._view
        if view is not None and view.version == self._version and view.seq == self._seq:
            return view
        with self.lock:
            view = IndexView(MappingProxyType(dict(self._docs)), self._seq, self._version)
            self._view = view
        return view

    @property
    def docs(self) -> Mapping[str, DocInfo]:
        """The indexed documents by id, read-only (``snapshot().docs``)."""
        return self.snapshot().docs

    @property
    def seq(self) -> int:
        """The change-log watermark: every change up to it is applied (``snapshot().seq``)."""
        return self._seq

    @property
    def version(self) -> int:
        """Bumped by every apply (``snapshot().version``)."""
        return self._version

    def allowed_chunks(self, keep: Callable[[DocInfo], bool]) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Chunk ids of the documents ``keep`` accepts (for filtered search)."""
        with self.lock:
            ids = [c for d in self._docs.values() if keep(d) for c in d.chunk_ids]
        return np.array(ids, dtype=np.int64)

    def check(self) -> list[str]:
        """Differences between these indexes and the store they follow (empty: they agree).

        Meaningful once caught up: every stored document is indexed with
        exactly its stored chunks, in both the vector and the lexical index,
        and nothing else is. (Whether a vector is the right one for its text
        is the embedder's business; a generation is stamped with it.)
        """
        stored = {d.id for d in self.store.documents()}
        chunks: dict[str, list[int]] = {d: [] for d in stored}
        for chunk in self.store.chunks(list(stored)):
            chunks[chunk.document_id].append(int(chunk.id or 0))
        problems: list[str] = []
        with self.lock:
            indexed = set(self._docs)
            if missing := stored - indexed:
                problems.append(f"{len(missing)} stored documents are not indexed")
            if extra := indexed - stored:
                problems.append(f"{len(extra)} indexed documents are no longer stored")
            wrong = [d for d in stored & indexed if sorted(self._docs[d].chunk_ids) != sorted(chunks[d])]
            if wrong:
                problems.append(f"{len(wrong)} documents are indexed with other chunks than stored")
            expected = sorted(c for ids in chunks.values() for c in ids)
            if len(self.vectors) != len(expected):
                problems.append(f"the vector index holds {len(self.vectors)} vectors for {len(expected)} chunks")
            if sorted(self.lexical.ids) != expected:
                problems.append("the lexical index holds other chunks than stored")
        return problems

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "seq": self._seq,
                "documents": len(self._docs),
                "chunks": len(self.chunk_doc),
                "vectors": len(self.vectors),
                "approximate": self.vectors.approximate,
                "embedder": self.embedder.identity,
                "dim": self.embedder.dim,
            }


def rebuild(
    store: IndexSource,
    embedder: Embedder,
    directory: Path,
    on_progress: Callable[[int, int], None] | None = None,
    **kwargs: Any,
) -> Indexer:
    """Build fresh indexes from the whole store, aside, and make them current.

    The live generation keeps serving until the new one is saved and the
    ``CURRENT`` pointer swapped.
    """
    fresh = Indexer(store, embedder, directory, **kwargs)
    fresh.catch_up(on_progress)
    fresh.save()
    return fresh
