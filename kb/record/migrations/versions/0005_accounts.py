"""Accounts and trust: users, groups, API tokens, browser sessions, the audit log, restricted documents.

Documents get ``groups`` (restricted to those groups; empty for every
document stored before, so nothing becomes hidden by upgrading) and
``created_by`` (unknown for documents stored before: only PMO admins may edit
those). No change-log entries: an empty ``groups`` is what the indexes assume.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("groups", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("created_by", sa.String(200), nullable=True))
    with op.batch_alter_table("document") as batch:  # the default only filled existing rows
        batch.alter_column("groups", server_default=None)
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(400), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_user_login", "user", ["login"], unique=True)
    op.create_table(
        "group",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("role_cap", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_apitoken_user_id", "apitoken", ["user_id"])
    op.create_index("ix_apitoken_secret_hash", "apitoken", ["secret_hash"], unique=True)
    op.create_table(
        "loginsession",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(100), nullable=True),
    )
    op.create_index("ix_loginsession_user_id", "loginsession", ["user_id"])
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("address", sa.String(100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_auditevent_at", "auditevent", ["at"])
    op.create_index("ix_auditevent_actor", "auditevent", ["actor"])
    op.create_index("ix_auditevent_action", "auditevent", ["action"])


def downgrade() -> None:
    op.drop_table("auditevent")
    op.drop_table("loginsession")
    op.drop_table("apitoken")
    op.drop_table("group")
    op.drop_table("user")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy would drop the table chunk points at.
    op.drop_column("document", "created_by")
    op.drop_column("document", "groups")
