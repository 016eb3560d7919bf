"""Title chunks: every FAQ and lesson stored before gets its title as a chunk of its own, first.

New ones are chunked that way on write (``kb.search.chunking.chunk_document``,
``kb.record.store.TITLE_CHUNK_KINDS``); this brings those already stored to the same
shape, so search quality does not depend on when a document was ingested.
Each changed document gets a change-log entry, so the indexes re-embed it on
their next catch-up. Nothing else is touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_document = sa.table("document", sa.column("id"), sa.column("kind"), sa.column("title"))
_chunk = sa.table(
    "chunk", sa.column("id"), sa.column("document_id"), sa.column("position"), sa.column("heading"), sa.column("text")
)
_change = sa.table("change", sa.column("document_id"), sa.column("op"), sa.column("at"))


# The kinds as this revision knew them: a later change to TITLE_CHUNK_KINDS needs its own revision.
_KINDS = ("faq", "lesson")


def _titled_chunks(bind: sa.Connection) -> dict[str, tuple[str, list[tuple[int, int, str]]]]:
    """Document id → (title, [(chunk id, position, text)] by position), for titled FAQs and lessons."""
    rows = bind.execute(
        sa.select(_document.c.id, _document.c.title, _chunk.c.id, _chunk.c.position, _chunk.c.text)
        .join(_chunk, _chunk.c.document_id == _document.c.id)
        .where(_document.c.kind.in_(_KINDS), _document.c.title != "")
        .order_by(_document.c.id, _chunk.c.position)
    )
    found: dict[str, tuple[str, list[tuple[int, int, str]]]] = {}
    for doc_id, title, chunk_id, position, text in rows:
        found.setdefault(doc_id, (title, []))[1].append((chunk_id, position, text))
    return found


def _log(bind: sa.Connection, doc_ids: list[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    if doc_ids:
        bind.execute(sa.insert(_change), [{"document_id": d, "op": "upsert", "at": now} for d in doc_ids])


def upgrade() -> None:
    bind = op.get_bind()
    changed = []
    for doc_id, (title, chunks) in _titled_chunks(bind).items():
        if not title.strip() or chunks[0][2] == title:
            continue  # no title, or already first (a title-only document's one chunk is its title)
        bind.execute(sa.update(_chunk).where(_chunk.c.document_id == doc_id).values(position=_chunk.c.position + 1))
        bind.execute(sa.insert(_chunk).values(document_id=doc_id, position=0, heading="", text=title))
        changed.append(doc_id)
    _log(bind, changed)


def downgrade() -> None:
    bind = op.get_bind()
    changed = []
    for doc_id, (title, chunks) in _titled_chunks(bind).items():
        if len(chunks) > 1 and chunks[0][2] == title:
            bind.execute(sa.delete(_chunk).where(_chunk.c.id == chunks[0][0]))
            bind.execute(sa.update(_chunk).where(_chunk.c.document_id == doc_id).values(position=_chunk.c.position - 1))
            changed.append(doc_id)
    _log(bind, changed)
