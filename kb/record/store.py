"""The system of record: the ``Store`` protocol (every role of ``kb.record.roles``) and its SQL implementation.

One implementation serves SQLite and PostgreSQL through SQLAlchemy. Every write
goes through one transaction that also appends to the change log, so derived
indexes (vector, lexical) can follow the store by sequence number.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import TypeAdapter
from sqlalchemy import Engine, func, insert, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, delete, select

from kb.config import Settings
from kb.errors import Conflict, InvalidInput, NotFound
from kb.record.db import make_engine, migrate
from kb.record.models import (
    Attachment,
    Change,
    ChangeOp,
    Chunk,
    Document,
    DocumentDraft,
    Embedding,
    Kind,
    OriginalFile,
    Source,
    utcnow,
)
from kb.record.roles import DocumentReader, IndexSource, SourceStore
from kb.record.transaction import Database
from kb.search.chunking import ChunkText, chunk_document

Chunker = Callable[[DocumentDraft], list[ChunkText]]

# Kinds whose title states what the document says, so it is a chunk of its own (see ``chunk_document``).
TITLE_CHUNK_KINDS = (Kind.faq, Kind.lesson)


@dataclass
class WriteResult:
    """What one write did, by document id."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class Store(SourceStore, DocumentReader, IndexSource, Protocol):
    """Every role of the system of record at once (``kb.record.roles``), and the writes no single role needs.

    Search analytics are not the store's: ``kb.pmo.analytics`` writes and reads them over its database.
    """

    def create(self, draft: DocumentDraft, *, by: str | None = None) -> Document: ...
    def update(self, doc_id: str, draft: DocumentDraft) -> Document: ...
    def delete(self, doc_id: str) -> None: ...
    def check(self) -> list[str]: ...
    def export_records(self) -> Iterator[dict[str, Any]]: ...
    def import_records(self, records: Iterable[dict[str, Any]]) -> WriteResult: ...


def document_id(source: str, key: str) -> str:
    """Stable id of item ``key`` of ``source``: the same item keeps its id across edits."""
    return hashlib.sha256(f"{source}\0{key}".encode()).hexdigest()[:16]


_STAMPS = TypeAdapter(dict[str, dt.datetime])


class SqlStore:
    """``Store`` over SQLAlchemy; the same code runs on SQLite and PostgreSQL."""

    def __init__(self, engine: Engine, *, chunker: Chunker) -> None:
        self.engine = engine
        self.db = Database(engine)
        self.chunker = chunker

    def transaction(self) -> AbstractContextManager[Session]:
        """One unit of work: every write made inside (by the store, the audit log, the PMO workflows) commits
        together at the end of the block or not at all (``kb.record.transaction``)."""
        return self.db.transaction()

    @classmethod
    def open(cls, url: str, *, chunker: Chunker) -> SqlStore:
        """Connect to ``url`` and migrate the schema to the newest revision."""
        engine = make_engine(url)
        migrate(engine)
        return cls(engine, chunker=chunker)

    def close(self) -> None:
        self.engine.dispose()

    # -- sources -----------------------------------------------------------

    def source_hash(self, path: str) -> str | None:
        with self.db.reading() as session:
            source = session.get(Source, path)
            return source.content_hash if source else None

    def source_paths(self, under: str | None = None) -> list[str]:
        with self.db.reading() as session:
            query = select(Source.path)
            if under is not None:
                prefix = under.rstrip("/") + "/"
                query = query.where(func.substr(Source.path, 1, len(prefix)) == prefix)
            return list(session.exec(query.order_by(Source.path)))

    def attached_sources(self, path: str) -> list[str]:
        prefix = path + "#"
        with self.db.reading() as session:
            query = select(Source.path).where(func.substr(Source.path, 1, len(prefix)) == prefix)
            return list(session.exec(query.order_by(Source.path)))

    def replace_source(
        self, path: str, content_hash: str, drafts: Sequence[DocumentDraft], *, by: str | None = None
    ) -> WriteResult:
        """Make the documents of ``path`` exactly ``drafts``, in one transaction.

        Items keep their ids by key; an item whose content hash did not change is
        left alone (no change log entry, its chunks and vectors stay). ``by``
        (an account's login) is recorded as the creator of the items it adds.
        """
        keys = [d.key for d in drafts]
        if len(set(keys)) != len(keys):
            duplicate = next(k for k, n in Counter(keys).items() if n > 1)
            raise InvalidInput(f"two items share the key {duplicate!r}", source=path)
        result = WriteResult()
        with self.db.writing() as session:
            existing = {d.id: d for d in session.exec(select(Document).where(Document.source_path == path))}
            wanted: set[str] = set()
            for draft in drafts:
                doc_id = document_id(path, draft.key)
                wanted.add(doc_id)
                self._write(session, doc_id, draft, existing.get(doc_id), result, source=(path, draft.key), by=by)
            for doc_id, doc in existing.items():
                if doc_id not in wanted:
                    self._remove(session, doc, result)
            source = session.get(Source, path) or Source(path=path, content_hash=content_hash)
            source.content_hash = content_hash
            source.ingested_at = utcnow()
            session.add(source)
        return result

    def remove_source(self, path: str) -> WriteResult:
        result = WriteResult()
        with self.db.writing() as session:
            for doc in list(session.exec(select(Document).where(Document.source_path == path))):
                self._remove(session, doc, result)
            session.exec(delete(Source).where(col(Source.path) == path))
        return result

    # -- single documents --------------------------------------------------

    def documents_of_source(self, path: str) -> list[Document]:
        """The documents ingested from ``path`` (a file or ``upload:<name>``)."""
        with self.db.reading() as session:
            return list(session.exec(select(Document).where(Document.source_path == path)))

    def create(self, draft: DocumentDraft, *, by: str | None = None) -> Document:
        """Store a document that has no source file (form, API); it gets a fresh id. ``by``: its creator."""
        doc_id = uuid.uuid4().hex[:16]
        with self.db.writing() as session:
            self._write(session, doc_id, draft, None, WriteResult(), source=None, by=by)
        return self.get(doc_id)

    def update(self, doc_id: str, draft: DocumentDraft) -> Document:
        """Replace a document's fields; the original file stays unless the draft brings another.

        An edit (``PUT``, a form) sets fields, it carries no file: taking its
        empty ``attachment_id`` at its word dropped the original of every
        edited template and procedure.
        """
        with self.db.writing() as session:
            doc = session.get(Document, doc_id)
            if doc is None:
                raise NotFound(f"no document with id {doc_id!r}")
            if draft.original is None and draft.attachment_id is None:
                draft = draft.model_copy(update={"attachment_id": doc.attachment_id})
            source = (doc.source_path, doc.source_key or "main") if doc.source_path else None
            self._write(session, doc_id, draft, doc, WriteResult(), source=source)
        return self.get(doc_id)

    def delete(self, doc_id: str) -> None:
        with self.db.writing() as session:
            doc = session.get(Document, doc_id)
            if doc is None:
                raise NotFound(f"no document with id {doc_id!r}")
            self._remove(session, doc, WriteResult())

    # -- reads -------------------------------------------------------------

    def get(self, doc_id: str) -> Document:
        with self.db.reading() as session:
            doc = session.get(Document, doc_id)
            if doc is None:
                raise NotFound(f"no document with id {doc_id!r}")
            return doc

    def get_many(self, doc_ids: Sequence[str]) -> list[Document]:
        """The documents with these ids that exist, in no particular order."""
        with self.db.reading() as session:
            found: list[Document] = []
            ids = list(doc_ids)
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                found.extend(session.exec(select(Document).where(col(Document.id).in_(ids[start : start + 500]))))
            return found

    def get_attachment(self, attachment_id: str) -> Attachment:
        """An original file by its SHA-256 id."""
        with self.db.reading() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound(f"no original file with id {attachment_id!r}")
            return attachment

    def chunks_by_id(self, chunk_ids: Sequence[int]) -> list[Chunk]:
        with self.db.reading() as session:
            return list(session.exec(select(Chunk).where(col(Chunk.id).in_(list(chunk_ids)))))

    def documents(self, *, kind: Kind | None = None, limit: int | None = None, offset: int = 0) -> list[Document]:
        with self.db.reading() as session:
            query = select(Document)
            if kind is not None:
                query = query.where(Document.kind == kind)
            query = query.order_by(col(Document.kind), col(Document.title), col(Document.id)).offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return list(session.exec(query))

    def recent(self, limit: int) -> list[Document]:
        """The ``limit`` most recently updated documents, newest first."""
        with self.db.reading() as session:
            query = select(Document).order_by(col(Document.updated_at).desc(), col(Document.id)).limit(limit)
            return list(session.exec(query))

    def children(self, doc_id: str) -> list[Document]:
        """Documents split out of ``doc_id`` (the lessons of a retrospective), in file order."""
        with self.db.reading() as session:
            query = select(Document).where(Document.parent_id == doc_id).order_by(col(Document.source_key))
            return list(session.exec(query))

    def chunks(self, doc_ids: Sequence[str]) -> list[Chunk]:
        """Chunks of these documents, by document then position."""
        with self.db.reading() as session:
            found: list[Chunk] = []
            ids = list(doc_ids)
            for start in range(0, len(ids), 500):
                query = select(Chunk).where(col(Chunk.document_id).in_(ids[start : start + 500]))
                found.extend(session.exec(query))
            return sorted(found, key=lambda c: (c.document_id, c.position))

    def counts(self) -> dict[str, int]:
        """Number of documents per kind, plus ``chunks`` and ``sources`` totals."""
        with self.db.reading() as session:
            rows = session.exec(select(Document.kind, func.count()).group_by(Document.kind)).all()
            counts = {str(kind): int(n) for kind, n in rows}
            counts["chunks"] = int(session.exec(select(func.count()).select_from(Chunk)).one())
            counts["sources"] = int(session.exec(select(func.count()).select_from(Source)).one())
            return counts

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        with self.db.reading() as session:
            query = select(Change).where(col(Change.seq) > seq).order_by(col(Change.seq)).limit(limit)
            return list(session.exec(query))

    def last_seq(self) -> int:
        with self.db.reading() as session:
            return session.exec(select(func.max(Change.seq))).one() or 0

    # -- stored embeddings -------------------------------------------------

    def load_vectors(self, embedder: str, text_hashes: Sequence[str]) -> dict[str, bytes]:
        """The stored vectors of these text hashes under ``embedder`` (those that exist)."""
        found: dict[str, bytes] = {}
        hashes = list(dict.fromkeys(text_hashes))
        with self.db.reading() as session:
            for start in range(0, len(hashes), 500):
                rows = session.exec(
                    select(Embedding.text_hash, Embedding.vector).where(
                        Embedding.embedder == embedder, col(Embedding.text_hash).in_(hashes[start : start + 500])
                    )
                )
                found.update({h: bytes(v) for h, v in rows})
        return found

    def save_vectors(self, embedder: str, vectors: dict[str, bytes]) -> None:
        """Store vectors; one another process stored first is kept (the same text gives the same vector)."""
        if not vectors:
            return
        rows = [{"embedder": embedder, "text_hash": h, "vector": v} for h, v in vectors.items()]
        dialect = self.engine.dialect.name
        insert_into = postgresql_insert if dialect == "postgresql" else sqlite_insert
        with self.db.writing() as session:
            for start in range(0, len(rows), 500):
                session.execute(insert_into(Embedding).values(rows[start : start + 500]).on_conflict_do_nothing())

    def prune_vectors(self, embedder: str, keep: set[str]) -> int:
        """Delete stored vectors of other embedders and of texts no chunk has any more; return how many."""
        with self.db.writing() as session:
            other = col(Embedding.embedder) != embedder
            removed = session.exec(select(func.count()).select_from(Embedding).where(other)).one()
            session.execute(delete(Embedding).where(other))
            stale = [h for h in session.exec(select(Embedding.text_hash)) if h not in keep]
            for start in range(0, len(stale), 500):
                session.execute(delete(Embedding).where(col(Embedding.text_hash).in_(stale[start : start + 500])))
        return int(removed or 0) + len(stale)

    def check(self) -> list[str]:
        """Problems with the stored data itself; an empty list means the store is sound.

        SQLite's own page-level check and foreign keys, then what the schema
        cannot express: chunks whose document is gone, and documents whose
        latest change-log entry is not an upsert (the indexes would never see
        them). Used by ``kb check`` and by the crash tests.
        """
        problems: list[str] = []
        with self.db.reading() as session:
            if self.engine.dialect.name == "sqlite":
                verdict = [str(r[0]) for r in session.execute(text("PRAGMA integrity_check"))]
                if verdict != ["ok"]:
                    problems += [f"sqlite integrity: {v}" for v in verdict[:20]]
                problems += [f"foreign key: {tuple(r)}" for r in session.execute(text("PRAGMA foreign_key_check"))]
            orphans = session.execute(
                text("SELECT count(*) FROM chunk WHERE document_id NOT IN (SELECT id FROM document)")
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} chunks belong to no document")
            unlogged = session.execute(
                text(
                    "SELECT count(*) FROM document d WHERE NOT EXISTS (SELECT 1 FROM change c WHERE "
                    "c.document_id = d.id AND c.op = 'upsert' AND c.seq = (SELECT max(seq) FROM change x "
                    "WHERE x.document_id = d.id))"
                )
            ).scalar_one()
            if unlogged:
                problems.append(f"{unlogged} documents have no change-log entry for their current state")
        return problems

    def transaction_horizon(self) -> tuple[int, int] | None:
        """(xmin, bound) on PostgreSQL; None on SQLite, whose writers commit one at a time.

        Every transaction with an id below ``xmin`` has ended. ``bound`` is a
        transaction id newer than every id assigned before this call (a fresh id,
        given to this short transaction and rolled back), so a transaction that
        took a change number before the call has an id below it: writers insert
        their document row, which assigns their id, before their change row. The
        indexer uses the two to tell a change number still in flight from one
        rolled back.

        Not the snapshot's xmax: that is one past the newest *completed*
        transaction, and a transaction still running can have an id at or above
        it, which once let the indexer give up a change number its writer was
        about to commit (tests/kb/test_change_log.py, rarely).
        """
        if self.engine.dialect.name != "postgresql":
            return None
        with self.engine.connect() as conn:
            xmin = conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one()
            bound = conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
            conn.rollback()
            return int(xmin), int(bound)

    # -- export / import ---------------------------------------------------

    def export_records(self) -> Iterator[dict[str, Any]]:
        """Every document as a JSON-ready dict, in id order.

        Chunks are derived and not exported; ``source_hash`` carries the hash of
        the file a document came from, so after an import re-ingesting the same
        files is still a no-op.
        """
        with self.db.reading() as session:
            hashes = dict(session.exec(select(Source.path, Source.content_hash)).all())
            for doc in session.exec(select(Document).order_by(col(Document.id))):
                record = doc.model_dump(mode="json", exclude={"content_hash"})
                record["source_hash"] = hashes.get(doc.source_path) if doc.source_path else None
                if doc.attachment_id:
                    attachment = session.get(Attachment, doc.attachment_id)
                    assert attachment is not None  # the foreign key guarantees it
                    record["original"] = {
                        "filename": attachment.filename,
                        "media_type": attachment.media_type,
                        "data": base64.b64encode(attachment.data).decode("ascii"),
                    }
                yield {k: record[k] for k in sorted(record)}

    def import_records(self, records: Iterable[dict[str, Any]]) -> WriteResult:
        """Restore exported documents with their ids and timestamps, in one transaction.

        An id that already exists with other content is a conflict: import never
        silently overwrites what is stored.
        """
        result = WriteResult()
        with self.db.writing() as session:
            for number, record in enumerate(records, start=1):
                try:
                    original = record.get("original")
                    if original is not None:
                        original = OriginalFile(**{**original, "data": base64.b64decode(original["data"])})
                    draft = DocumentDraft.model_validate({**record, "original": original})
                    doc_id = str(record["id"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise InvalidInput(f"record {number}: {exc}") from exc
                existing = session.get(Document, doc_id)
                if existing is not None:
                    if existing.content_hash != draft.content_hash():
                        raise Conflict(f"record {number}: document {doc_id} exists with other content")
                    result.unchanged.append(doc_id)
                    continue
                self._write(session, doc_id, draft, None, result, source=None)
                doc = session.get(Document, doc_id)
                assert doc is not None
                doc.source_path = record.get("source_path")
                doc.source_key = record.get("source_key")
                doc.created_by = record.get("created_by")
                stamps = _STAMPS.validate_python({k: record[k] for k in ("created_at", "updated_at") if record.get(k)})
                for name, value in stamps.items():
                    setattr(doc, name, value)
                if doc.source_path and record.get("source_hash") and session.get(Source, doc.source_path) is None:
                    session.add(Source(path=doc.source_path, content_hash=record["source_hash"]))
                    session.flush()
                session.add(doc)
        return result

    # -- internals ---------------------------------------------------------

    def _write(
        self,
        session: Session,
        doc_id: str,
        draft: DocumentDraft,
        existing: Document | None,
        result: WriteResult,
        *,
        source: tuple[str, str] | None,
        by: str | None = None,
    ) -> None:
        content_hash = draft.content_hash()
        if existing is not None and existing.content_hash == content_hash:
            result.unchanged.append(doc_id)
            return
        values = draft.model_dump(exclude={"key"})
        if draft.original is not None and session.get(Attachment, draft.original.digest) is None:
            original = draft.original
            session.add(
                Attachment(
                    id=original.digest,
                    filename=original.filename,
                    media_type=original.media_type,
                    size=len(original.data),
                    data=original.data,
                )
            )
            session.flush()
        previous_attachment = existing.attachment_id if existing is not None else None
        if existing is None:
            doc = Document(id=doc_id, content_hash=content_hash, created_by=by, **values)
            result.added.append(doc_id)
        else:
            doc = existing
            for name, value in values.items():
                setattr(doc, name, value)
            doc.content_hash = content_hash
            doc.updated_at = utcnow()
            session.exec(delete(Chunk).where(col(Chunk.document_id) == doc_id))
            result.updated.append(doc_id)
        if source is not None:
            doc.source_path, doc.source_key = source
        session.add(doc)
        session.flush()
        # Core inserts: the ORM's per-object bookkeeping was most of the ingest time.
        rows = [
            {"document_id": doc_id, "position": n, "heading": chunk.heading, "text": chunk.text}
            for n, chunk in enumerate(self.chunker(draft))
        ]
        session.execute(insert(Chunk), rows)
        if previous_attachment and previous_attachment != doc.attachment_id:
            self._drop_unused_attachment(session, previous_attachment)
        session.execute(insert(Change), [{"document_id": doc_id, "op": ChangeOp.upsert, "at": utcnow()}])

    def _remove(self, session: Session, doc: Document, result: WriteResult) -> None:
        session.exec(delete(Chunk).where(col(Chunk.document_id) == doc.id))
        attachment_id = doc.attachment_id
        session.delete(doc)
        session.flush()
        if attachment_id:
            self._drop_unused_attachment(session, attachment_id)
        session.add(Change(document_id=doc.id, op=ChangeOp.delete))
        result.removed.append(doc.id)

    def _drop_unused_attachment(self, session: Session, attachment_id: str) -> None:
        """Delete an original no document refers to any more (content-addressed, so it may be shared)."""
        session.flush()
        in_use = session.exec(select(Document.id).where(Document.attachment_id == attachment_id).limit(1)).first()
        if in_use is None:
            session.exec(delete(Attachment).where(col(Attachment.id) == attachment_id))


def open_store(settings: Settings) -> SqlStore:
    """The store a process works on: the configured database, chunked per the settings."""
    settings.ensure_data_dir()

    def chunker(draft: DocumentDraft) -> list[ChunkText]:
        return chunk_document(
            draft.title,
            draft.body,
            size=settings.chunk_chars,
            overlap=settings.chunk_overlap_chars,
            title_chunk=draft.kind in TITLE_CHUNK_KINDS,
        )

    return SqlStore.open(settings.resolved_database_url, chunker=chunker)
