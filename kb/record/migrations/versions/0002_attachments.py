"""Attachments: original files kept for download, referenced by documents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("attachment_id", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_document_attachment_id", "attachment", ["attachment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("fk_document_attachment_id", type_="foreignkey")
        batch.drop_column("attachment_id")
    op.drop_table("attachment")
