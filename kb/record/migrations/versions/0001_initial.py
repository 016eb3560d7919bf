"""Initial schema: documents, chunks, sources and the change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("project", sa.String(), nullable=True, index=True),
        sa.Column("phase", sa.String(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("driving_event", sa.Text(), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("impact", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("supersedes", sa.String(), nullable=True),
        sa.Column("parent_id", sa.String(), nullable=True, index=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("source_path", sa.String(), nullable=True, index=True),
        sa.Column("source_key", sa.String(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chunk",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(64), sa.ForeignKey("document.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "source",
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "change",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(64), nullable=False, index=True),
        sa.Column("op", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("change")
    op.drop_table("source")
    op.drop_table("chunk")
    op.drop_table("document")
