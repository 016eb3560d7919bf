"""Push delivery: subscriptions, the project register, the outbox (notifications, messages, attempts), the
matcher's change-log cursor.

No change-log entries: nothing indexed changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("rhythm", sa.String(16), nullable=False),
        sa.Column("address", sa.String(1000), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("feed_token", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_subscription_owner", "subscription", ["owner"])
    op.create_index("ix_subscription_topic", "subscription", ["topic"])
    op.create_index("ix_subscription_feed_token", "subscription", ["feed_token"], unique=True)
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("phase", sa.String(200), nullable=False),
        sa.Column("phase_since", _AT, nullable=True),
        sa.Column("pm", sa.String(200), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("planned", sa.JSON(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_project_name", "project", ["name"], unique=True)
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("due_at", _AT, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sqlite_autoincrement=True,
    )
    for column in ("recipient", "subscription_id", "document_id", "due_at", "message_id"):
        op.create_index(f"ix_notification_{column}", "notification", [column])
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", _AT, nullable=False),
        sa.Column("lease_until", _AT, nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered", sa.JSON(), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("sent_at", _AT, nullable=True),
        sa.Column("read_at", _AT, nullable=True),
        sqlite_autoincrement=True,
    )
    for column in ("recipient", "subscription_id", "state", "next_at"):
        op.create_index(f"ix_message_{column}", "message", [column])
    op.create_table(
        "deliveryattempt",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deliveryattempt_message_id", "deliveryattempt", ["message_id"])
    op.create_table(
        "notifycursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
    )
    # the matcher starts at the change log's end: documents stored before this release announce nothing
    op.execute(
        "INSERT INTO notifycursor (name, seq, updated_at) SELECT 'matcher', COALESCE(MAX(seq), 0), CURRENT_TIMESTAMP "
        "FROM change"
    )


def downgrade() -> None:
    for table in ("notifycursor", "deliveryattempt", "message", "notification", "project", "subscription"):
        op.drop_table(table)
