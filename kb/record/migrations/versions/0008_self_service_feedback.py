"""Accounts run from the browser, and feedback from every reader.

- ``user``: the UI language the account chose, whether it must replace a
  one-time password an admin issued, and the SHA-256 of a pending invitation
  link's secret with its expiry (the secret itself is shown once, never kept).
- ``feedback``: a verdict (helpful, not_helpful, outdated; existing rows keep
  what their ``helpful`` flag said), an optional comment, who gave it, and when
  an "outdated" report was dealt with (it leaves the owner's review queue).

No change-log entries: nothing indexed changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("invite_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_user_invite_hash", ["invite_hash"], unique=True)
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("verdict", sa.String(32), nullable=False, server_default="helpful"))
        batch.add_column(sa.Column("comment", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("actor", sa.String(200), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(200), nullable=True))
    op.execute(sa.text("UPDATE feedback SET verdict = 'not_helpful' WHERE NOT helpful"))
    op.create_index("ix_feedback_verdict", "feedback", ["verdict"])


def downgrade() -> None:
    op.drop_index("ix_feedback_verdict", "feedback")
    with op.batch_alter_table("feedback") as batch:
        for name in ("resolved_by", "resolved_at", "actor", "comment", "verdict"):
            batch.drop_column(name)
    with op.batch_alter_table("user") as batch:
        batch.drop_index("ix_user_invite_hash")
        for name in ("invite_expires_at", "invite_hash", "must_change_password", "language"):
            batch.drop_column(name)
