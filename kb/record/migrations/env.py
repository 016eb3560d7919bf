"""Alembic environment: runs migrations on the connection `kb.record.db.migrate` hands over.

There is no alembic.ini: the schema is migrated in-process when a store opens, so
a fresh data dir, an upgraded install and a new PostgreSQL database all reach
the same head the same way.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import kb.record.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
